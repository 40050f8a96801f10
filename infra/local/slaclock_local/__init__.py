"""The local embedded stack: the whole pipeline on one machine, no AWS account (infra/local/README.md).

- `stack`: `LocalStack`, what ``slaclock local up``, ``make demo`` and tests/e2e start;
- `resources`: the template's stateful resources created in moto FROM template.yaml;
- `functions`: the real handlers loaded by path and invoked in process (the Lambda runtime's part);
- `front`: API Gateway's HTTP API on loopback (payload format 2.0 events);
- `schedules`: EventBridge Scheduler / rules and the SQS event sources, fired on the virtual clock;
- `clock`: the virtual clock; `mail`: captured SES e-mails; `hooks`: captured outgoing webhooks;
- `helpdesks`: sign a body as each helpdesk signs it; `reports`: report links; `client`: loopback HTTP.
"""
