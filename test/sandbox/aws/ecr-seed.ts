// ECR repositories with images in moto, for the ECR gate (gate-ecr.ts) and for people trying the
// sandbox: two in the sandbox account and two in a second "registry" account. moto keeps one backend
// per account and picks it from the access key or its `x-moto-account-id` header; the seed uses the
// header, as the sandbox admin. Idempotent; the gate runs it again after every moto reset.
import { createHash } from 'node:crypto';
import { CreateRepositoryCommand, PutImageCommand, SetRepositoryPolicyCommand } from '@aws-sdk/client-ecr';
import { motoEcr } from './gate-wire.js';

/** The sandbox's own account (moto's default account). */
export const SANDBOX_ACCOUNT_ID = '123456789012';
/** A second account holding a shared registry (AWS's documentation example account id). */
export const REGISTRY_ACCOUNT_ID = '111122223333';

export interface SeededRepository {
  account: string;
  name: string;
  tags: string[];
  /** Repository policy set by the seed (none: the repository grants nothing to other accounts). */
  policy?: unknown;
}

export const SEEDED_REPOSITORIES: readonly SeededRepository[] = [
  { account: SANDBOX_ACCOUNT_ID, name: 'rhacs-sandbox/app', tags: ['1.0', '1.1'] },
  { account: SANDBOX_ACCOUNT_ID, name: 'rhacs-sandbox/tools', tags: ['2024.1'] },
  // No repository policy: another account's principals get nothing, whatever their own policies say.
  { account: REGISTRY_ACCOUNT_ID, name: 'shared/base', tags: ['9.4', 'latest'] },
  // A policy that grants only the registry account itself: still nothing for the sandbox account.
  {
    account: REGISTRY_ACCOUNT_ID,
    name: 'shared/locked',
    tags: ['1.0'],
    policy: {
      Version: '2012-10-17',
      Statement: [
        { Sid: 'OwnAccountOnly', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${REGISTRY_ACCOUNT_ID}:root` }, Action: 'ecr:BatchGetImage' },
      ],
    },
  },
];

function digest(seed: string): string {
  return `sha256:${createHash('sha256').update(seed).digest('hex')}`;
}

/** A Docker image manifest (schema 2) with one layer; distinct per repository and tag. */
export function imageManifest(repository: string, tag: string): string {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: 1469, digest: digest(`config ${repository}:${tag}`) },
    layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: 2811478, digest: digest(`layer ${repository}:${tag}`) }],
  });
}

export async function seedRegistries(target: { motoUrl: string; region: string }): Promise<void> {
  for (const repo of SEEDED_REPOSITORIES) {
    const ecr = motoEcr(target.motoUrl, target.region, repo.account);
    try {
      await ecr.send(new CreateRepositoryCommand({ repositoryName: repo.name }));
    } catch (err) {
      if ((err as { name?: string }).name !== 'RepositoryAlreadyExistsException') throw err;
    }
    for (const tag of repo.tags) {
      try {
        await ecr.send(new PutImageCommand({ repositoryName: repo.name, imageTag: tag, imageManifest: imageManifest(repo.name, tag) }));
      } catch (err) {
        if ((err as { name?: string }).name !== 'ImageAlreadyExistsException') throw err;
      }
    }
    if (repo.policy) {
      await ecr.send(new SetRepositoryPolicyCommand({ repositoryName: repo.name, policyText: JSON.stringify(repo.policy) }));
    }
  }
}
