import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { App } from '../../apps/app.js';
import { isBlockedAddress } from '../../webhooks/address-guard.js';
import { mayInvoke, type WebhookTargetRules } from '../../webhooks/config.js';
import type { Finding } from './diagnose.js';

/**
 * The webhooks of an app that this stage's rules (`WEBHOOKS_ALLOW_PRIVATE_URLS`, `WEBHOOKS_LAMBDA_FUNCTIONS`,
 * as the sender reads them from the environment) would refuse: a URL that resolves to a loopback, link-local
 * or private address, a host that does not resolve, a function the stage may not invoke. Names the webhook
 * by its place and host or function, never its path, query or headers.
 */
export async function unreachableWebhooks(app: App, rules: WebhookTargetRules): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const [index, webhook] of app.webhooks.entries()) {
    const attribute = `Webhooks[${index}]`;
    const refused = (text: string) => findings.push({ attribute, kind: 'undeliverable', text });
    if (webhook.lambdaFunction !== undefined) {
      if (!mayInvoke(rules.lambdaFunctions, webhook.lambdaFunction)) {
        refused(
          `function ${webhook.lambdaFunction} is not one this stage may invoke: add it to the webhookLambdaFunctions stage parameter (WEBHOOKS_LAMBDA_FUNCTIONS)`,
        );
      }
      continue;
    }
    if (rules.allowPrivateUrls || webhook.url === undefined) continue;
    const host = new URL(webhook.url).hostname.replace(/^\[|\]$/g, '');
    let addresses: string[];
    try {
      addresses =
        isIP(host) !== 0 ? [host] : (await lookup(host, { all: true })).map(({ address }) => address);
    } catch {
      refused(`the host ${host} does not resolve here`);
      continue;
    }
    const blocked = addresses.find(isBlockedAddress);
    if (blocked !== undefined) {
      refused(
        `the host ${host} resolves to ${blocked}, a loopback, link-local or private address the sender refuses (allowPrivateWebhookUrls allows it)`,
      );
    }
  }
  return findings;
}
