// What --verbose shows of the AWS SDK's own log: one readable line per message, the failed call and
// its error, never [object Object] and never the call's input (a web identity token is a credential).
import { Readable } from 'node:stream';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { sdkLogger, sdkLogLine } from '../../src/clouds/aws/sdk-clients.js';

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.secret-token-body.signature';
const REFUSAL = `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>InvalidIdentityToken</Code><Message>Couldn't retrieve verification key from your identity provider</Message></Error>
  <RequestId>4b2c-request-id</RequestId>
</ErrorResponse>`;

describe('the AWS SDK log under --verbose', () => {
  it('says which call failed and why, from the object the SDK logs, without its input', async () => {
    const logs: string[] = [];
    const sts = new STSClient({
      region: 'eu-west-1',
      maxAttempts: 1,
      logger: sdkLogger({ log: (m) => logs.push(m) }),
      // IAM's answer, served without a network: the SDK's own middleware (its logger among them) runs as in a real call.
      requestHandler: {
        handle: async () => ({
          response: { statusCode: 400, reason: 'Bad Request', headers: { 'content-type': 'text/xml', 'x-amzn-requestid': '4b2c-request-id' }, body: Readable.from([Buffer.from(REFUSAL)]) },
        }),
      } as never,
    });
    await expect(sts.send(new AssumeRoleWithWebIdentityCommand({ RoleArn: 'arn:aws:iam::111122223333:role/r', RoleSessionName: 's', WebIdentityToken: TOKEN }))).rejects.toThrow(/verification key/);
    expect(logs).toEqual([
      "aws sdk: STS AssumeRoleWithWebIdentity failed (HTTP 400, request 4b2c-request-id): InvalidIdentityTokenException: Couldn't retrieve verification key from your identity provider",
    ]);
    expect(logs.join('\n')).not.toContain('secret-token-body');
  });

  it('keeps strings and errors as they are, names other objects by their fields only, one line', () => {
    expect(sdkLogLine(['Credential renew failed: ', new Error('connect ECONNREFUSED')])).toBe('aws sdk: Credential renew failed:  Error: connect ECONNREFUSED');
    expect(sdkLogLine(['socket usage at capacity=50\nand more'])).toBe('aws sdk: socket usage at capacity=50');
    expect(sdkLogLine([{ accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI' }])).toBe('aws sdk: {accessKeyId, secretAccessKey}');
    expect(sdkLogLine([{ message: 'a plain message' }])).toBe('aws sdk: a plain message');
  });

  it('turns the SDK warning about two credential sources into one sentence, once', () => {
    const logs: string[] = [];
    const warnings: string[] = [];
    const logger = sdkLogger({ log: (m) => logs.push(m), warn: (m) => warnings.push(m), profile: 'dev' });
    logger.warn('@aws-sdk/credential-provider-node - defaultProvider::fromEnv WARNING:\n    Multiple credential sources detected: ');
    logger.warn('Multiple credential sources detected');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^Both a profile \(dev\) and AWS_ACCESS_KEY_ID/);
    expect(logs).toEqual([]);
  });
});
