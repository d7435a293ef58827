// The cold-start baseline of a Lambda that also holds the SQS client: the HTTP API publishing baseline (DynamoDB, API Gateway Management, Lambda), plus an
// SQS client created at module scope as the Lambdas that raise or send webhooks create theirs. The event
// makes no SQS call, as theirs make none for an app without webhooks.
import { SQSClient } from '@aws-sdk/client-sqs';

export { handler } from './sdk-publisher-handler.js';

export const webhookQueue = new SQSClient({});
