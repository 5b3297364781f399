// For tests of S3-hosted issuers: reach S3's public endpoint stand-in (public-issuers.ts with
// s3-public.ts) as the internet does, name bucket hosts in RHACS_STS_CONNECT_TO, and read what moto
// holds (as the sandbox admin, not through the gate, so nothing is counted).
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { GetBucketTaggingCommand, GetObjectCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import { bucketGuards, motoS3, type BucketGuards } from '../aws/gate-s3.js';
import type { SandboxInfo } from '../types.js';

export { motoS3 } from '../aws/gate-s3.js';

/** The S3 issuer URL of a bucket (virtual-hosted style, regional endpoint), as ccoctl and rhacs-sts write it. */
export function bucketIssuer(bucket: string, region: string): string {
  return `https://${bucket}.s3.${region}.amazonaws.com`;
}

/** RHACS_STS_CONNECT_TO with these hosts (bucket hosts) sent to the public web stand-in too. */
export function connectToWith(info: SandboxInfo, hosts: string[]): string {
  const port = new URL(info.publicIssuers.url).port;
  return [info.publicIssuers.connectTo, ...hosts.map((h) => `${h.toLowerCase()}:443:127.0.0.1:${port}`)].filter(Boolean).join(',');
}

/** An anonymous GET of a public URL, as the internet serves it (the stand-in, its root CA trusted). */
export function publicGet(info: SandboxInfo, url: string): Promise<{ status: number; body: string; contentType?: string }> {
  const u = new URL(url);
  const port = Number(new URL(info.publicIssuers.url).port);
  return new Promise((resolve, reject) => {
    const req = https.get(
      { host: '127.0.0.1', port, servername: u.hostname, path: `${u.pathname}${u.search}`, headers: { host: u.hostname }, ca: readFileSync(info.publicIssuers.caCertPath), timeout: 10_000, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, contentType: res.headers['content-type'] }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout fetching ${url}`)));
    req.on('error', reject);
  });
}

/** What moto holds for a bucket: existence, tags, block public access and ownership. */
export async function bucketState(info: SandboxInfo, bucket: string): Promise<{ exists: boolean; tags: Record<string, string>; guards?: BucketGuards }> {
  const s3 = motoS3(info.motoUrl);
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch {
    return { exists: false, tags: {} };
  }
  let tags: Record<string, string> = {};
  try {
    const out = await s3.send(new GetBucketTaggingCommand({ Bucket: bucket }));
    tags = Object.fromEntries((out.TagSet ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
  } catch {
    tags = {};
  }
  return { exists: true, tags, guards: await bucketGuards(info.motoUrl, bucket) };
}

/** An object's body as moto holds it, or undefined. */
export async function bucketObject(info: SandboxInfo, bucket: string, key: string): Promise<string | undefined> {
  try {
    const out = await motoS3(info.motoUrl).send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return await out.Body?.transformToString('utf8');
  } catch {
    return undefined;
  }
}
