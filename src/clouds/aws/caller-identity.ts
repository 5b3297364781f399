/** Who the credentials belong to (sts:GetCallerIdentity), checked before any ARN is built on it. */
import { OperationError } from '../../errors.js';
import { accountId as accountIdProblem, PARTITIONS, type Partition } from '../../validate.js';
import type { CallerIdentity } from './session.js';

/**
 * What sts:GetCallerIdentity answered, checked as a flag would be: the account id and the
 * partition go into every ARN and policy we write (an account "*" would grant to every account).
 */
export function callerIdentity(account: string | undefined, arn: string | undefined): CallerIdentity {
  const problems: string[] = [];
  const accountProblem = accountIdProblem(account ?? '');
  if (accountProblem) problems.push(`Account: ${accountProblem}`);
  const m = /^arn:([a-z-]+):(?:sts|iam)::(\d{12}):[\x21-\x7e]+$/.exec(arn ?? '');
  if (!m) problems.push(`Arn: "${arn ?? ''}" is not the ARN of an IAM or STS principal`);
  else if (!PARTITIONS.includes(m[1] as Partition)) problems.push(`Arn: "${m[1]}" is not an AWS partition (${PARTITIONS.join(', ')})`);
  else if (!accountProblem && m[2] !== account) problems.push(`Arn: names account ${m[2]}, but Account is ${account}`);
  if (problems.length) {
    throw new OperationError(`AWS answered sts:GetCallerIdentity with values that cannot be used (${problems.join('; ')}); nothing was changed.`, {
      hint: 'Check the AWS endpoint your configuration points at (AWS_ENDPOINT_URL, the profile\'s endpoint_url) and the credentials.',
    });
  }
  return { accountId: account!, partition: m![1] as Partition, arn: arn! };
}
