// The wizard's questions (src/decide.ts) through a scripted Ui: only what flags and detection left
// open is asked, each with a default from detection, answers are validated like flags and asked
// again when wrong, and nothing at all is asked without a terminal.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  askAfterPlan,
  askDecisions,
  askDetection,
  checkInitOptions,
  decisionsFromOptions,
  defaultDelegatedScanning,
  namespaceCandidates,
  splitRepositories,
} from '../../src/decide.js';
import type { ClusterTarget } from '../../src/targets.js';
import { addIntegrationToPlan } from '../../src/central/flow.js';
import { planIntegration } from '../../src/central/integration.js';
import { CancelledError, InputError } from '../../src/errors.js';
import type { Options } from '../../src/options/options.js';
import { buildPlan } from '../../src/plan/build.js';
import { planToJson } from '../../src/render/plan-json.js';
import type { AwsState, ClusterFacts, Facts } from '../../src/plan/model.js';
import { BACK, CTRL_C, DEFAULT, createMemoryUi, type ScriptedAnswer } from '../../src/ui/memory.js';
import { parseYesNo } from '../../src/ui/ui.js';
import { clusterFacts, facts as buildFacts, nothingInPlace, options } from './builders.js';

const ACCOUNT = '111122223333';
const ISSUER = 'https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';

const cluster = (over: Partial<ClusterFacts> = {}): ClusterFacts => clusterFacts({ issuer: ISSUER, current: nothingInPlace(), ...over });
const facts = (clusters: ClusterFacts[] = [cluster()], over: Partial<Facts> = {}): Facts => buildFacts(clusters, over);
const opts = options;
const EMPTY_AWS: AwsState = { oidcProviders: {}, role: null };

async function ask(answers: ScriptedAnswer[], raw: Record<string, unknown> = {}, f: Facts = facts()) {
  const ui = createMemoryUi({ interactive: true, answers });
  const options = await askDecisions(opts(raw), f, ui);
  return { ui, options, messages: ui.asked.map((q) => q.message) };
}

describe('askDecisions: what flags did not answer, with defaults from detection', () => {
  it('asks role name, delegated scanning and ECR scope when nothing was said; Enter takes each default', async () => {
    const { ui, options } = await ask([DEFAULT, DEFAULT, DEFAULT]);
    expect(ui.asked.map((q) => [q.kind, q.default])).toEqual([
      ['input', 'rhacs-sts-prod'], // from the detected cluster name
      ['confirm', false], // Central runs here: least privilege
      ['select', 'all'],
    ]);
    expect(ui.remaining).toEqual([]);
    expect(options).toMatchObject({ roleName: 'rhacs-sts-prod', delegatedScanning: false, ecrRegistryId: undefined, ecrRegion: undefined, ecrRepositories: [] });
    // The answers give the same decisions as the equivalent flags.
    const fromFlags = decisionsFromOptions(opts({ roleName: 'rhacs-sts-prod' }), facts());
    expect(decisionsFromOptions(options, facts())).toEqual(fromFlags);
  });

  it('asks nothing that a flag (or the config file) answered', async () => {
    const { ui, options } = await ask([], { roleName: 'given', delegatedScanning: true, ecrRepository: ['team/*'] });
    expect(ui.asked).toEqual([]);
    expect(options).toMatchObject({ roleName: 'given', delegatedScanning: true, ecrRepositories: ['team/*'] });
  });

  it('any one ECR flag settles the ECR scope', async () => {
    for (const raw of [{ ecrRegistryId: '444455556666' }, { ecrRegion: 'eu-west-1' }, { ecrRepository: ['app'] }]) {
      const { messages } = await ask([DEFAULT, DEFAULT], raw);
      expect(messages.some((m) => /Which ECR/.test(m))).toBe(false);
    }
  });

  it('does not ask about delegated scanning where no Sensor runs, nor with --sensor-context (implied)', async () => {
    const centralOnly = facts([cluster({ components: ['central'] })]);
    expect((await ask([DEFAULT, DEFAULT], {}, centralOnly)).messages.some((m) => /Delegated/.test(m))).toBe(false);
    const split = facts([cluster({ context: 'hub', components: ['central'] }), cluster({ context: 'spoke', components: ['sensor'] })]);
    const r = await ask([DEFAULT, DEFAULT], { centralContext: 'hub', sensorContext: ['spoke'] }, split);
    expect(r.messages.some((m) => /Delegated/.test(m))).toBe(false);
    expect(decisionsFromOptions(r.options, split).delegatedScanning).toBe(true);
  });

  it('defaults delegated scanning to yes only for a Sensor-only cluster', async () => {
    expect(defaultDelegatedScanning(facts())).toBe(false);
    expect(defaultDelegatedScanning(facts([cluster({ components: ['sensor'] })]))).toBe(true);
    const { ui } = await ask([DEFAULT, DEFAULT, DEFAULT], {}, facts([cluster({ components: ['sensor'] })]));
    expect(ui.asked[1]).toMatchObject({ kind: 'confirm', default: true });
  });

  it('validates answers with the flags\' validators and asks again until valid', async () => {
    const { ui, options } = await ask(['bad name!', 'x'.repeat(65), 'rhacs-ok', 'n', 'repositories', 'Team/App', '', 'team-a/*, app'], {});
    const role = ui.asked[0]!;
    expect(role.errors).toHaveLength(2);
    expect(role.errors[0]).toMatch(/characters IAM does not allow/);
    expect(role.errors[1]).toMatch(/1 to 64 characters/);
    const repos = ui.asked[3]!;
    expect(repos.errors[0]).toMatch(/not an ECR repository name/);
    expect(repos.errors[1]).toMatch(/at least one repository/);
    expect(options).toMatchObject({ roleName: 'rhacs-ok', delegatedScanning: false, ecrRepositories: ['team-a/*', 'app'] });
  });

  it('one registry account: asks the account and the region, and checks the region\'s partition', async () => {
    const { ui, options } = await ask([DEFAULT, DEFAULT, 'registry', '12345', '444455556666', 'cn-north-1', 'eu-central-1']);
    expect(ui.asked[3]!.errors[0]).toMatch(/not an AWS account id/);
    expect(ui.asked[4]!.errors[0]).toMatch(/another partition/);
    expect(options).toMatchObject({ ecrRegistryId: '444455556666', ecrRegion: 'eu-central-1', ecrRepositories: [] });
    const any = await ask([DEFAULT, DEFAULT, 'registry', DEFAULT, DEFAULT]);
    expect(any.options).toMatchObject({ ecrRegistryId: ACCOUNT, ecrRegion: undefined });
  });

  it('a yes/no question takes only y, yes, n or no (any case; Enter: the default) and asks again otherwise', async () => {
    const { ui, options } = await ask([DEFAULT, 'maybe', 'xyz', 'nope', 'YES', DEFAULT]);
    const delegated = ui.asked[1]!;
    expect(delegated.kind).toBe('confirm');
    expect(delegated.errors).toHaveLength(3);
    expect(delegated.errors[0]).toMatch(/answer y or yes, n or no \(Enter: no\), or < to go back/);
    expect(options.delegatedScanning).toBe(true);
    expect([['y', true], ['No', false], ['', false], ['maybe', undefined], ['xyz', undefined], ['yess', undefined]].map(([a]) => parseYesNo(a as string, false)))
      .toEqual([true, false, false, undefined, undefined, undefined]);
    expect(parseYesNo('', true)).toBe(true);
  });

  it('every question after the first offers the way back; it returns to the previous question with its answer undone', async () => {
    // Role name, then "<" at delegated scanning (back to the role name), a new name, yes, then back
    // from the ECR list to delegated scanning, no, then the repositories list, back to the list, all.
    const { ui, options } = await ask(['first', '<', 'second', 'y', BACK, 'n', 'repositories', BACK, 'all']);
    expect(ui.asked.map((q) => [q.message.slice(0, 20), q.back ?? false, q.answer])).toEqual([
      ['Name of the IAM role', false, 'first'],
      ['Delegated scanning: ', true, undefined],
      ['Name of the IAM role', false, 'second'],
      ['Delegated scanning: ', true, true],
      ['Which ECR repositori', true, undefined],
      ['Delegated scanning: ', true, false],
      ['Which ECR repositori', true, 'repositories'],
      ['Repositories (separa', true, undefined],
      ['Which ECR repositori', true, 'all'],
    ]);
    expect(ui.remaining).toEqual([]);
    expect(options).toMatchObject({ roleName: 'second', delegatedScanning: false, ecrRepositories: [] });
  });

  it('the way back reaches the mechanism question, and the first question asked offers none', async () => {
    const podIdentity = facts([cluster({ podIdentityAgent: true, version: '4.7.2' })]);
    // The first question asked (the mechanism: the role name was given) has no way back.
    await expect(ask([BACK], { roleName: 'given' }, podIdentity)).rejects.toThrow(/offers no way back/);
    const r = await ask(['pod-identity', BACK, 'irsa', DEFAULT, DEFAULT], { roleName: 'given' }, podIdentity);
    expect(r.ui.asked.map((q) => [q.kind, q.back ?? false])).toEqual([['select', false], ['confirm', true], ['select', false], ['confirm', true], ['select', true]]);
    expect(r.options).toMatchObject({ roleName: 'given', mechanism: 'irsa', delegatedScanning: false });
  });

  it('Ctrl-C at a question is a cancellation (exit 130)', async () => {
    const err = await ask([CTRL_C]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledError);
    expect((err as CancelledError).exitCode).toBe(130);
  });

  it('with --yes takes every default without asking', async () => {
    const ui = createMemoryUi({ interactive: true });
    const o = opts({ yes: true });
    expect(await askDecisions(o, facts(), ui)).toBe(o);
    const f = facts();
    expect(await askAfterPlan(o, buildPlan(f, decisionsFromOptions(o, f), EMPTY_AWS), ui)).toBe(o);
    expect(ui.asked).toEqual([]);
  });

  it('asks nothing without a terminal, nor for a plan (which shows what the flags give)', async () => {
    const noTty = createMemoryUi({ interactive: false });
    const o = opts();
    expect(await askDecisions(o, facts(), noTty)).toBe(o);
    const tty = createMemoryUi({ interactive: true });
    const p = opts({}, 'plan');
    expect(await askDecisions(p, facts(), tty)).toBe(p);
    expect(tty.asked).toEqual([]);
  });
});

describe('askAfterPlan: adopting what blocks the plan, restarting now or later', () => {
  const f = facts();
  const planFor = (o: Options, aws: AwsState = EMPTY_AWS) => buildPlan(f, decisionsFromOptions(o, f), aws);

  it('offers no way back, as the README says of the questions about a plan already shown', async () => {
    const o = opts({ roleName: 'r' });
    const ui = createMemoryUi({ interactive: true, answers: [DEFAULT] });
    await askAfterPlan(o, planFor(o), ui);
    expect(ui.asked.length).toBe(1);
    expect(ui.asked.every((q) => !q.back)).toBe(true);
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const wizard = readme.slice(readme.indexOf('### At a terminal: the wizard'), readme.indexOf('```', readme.indexOf('### At a terminal: the wizard'))).replace(/\s+/g, ' ');
    expect(wizard).not.toMatch(/every question after the first says/);
    expect(wizard).toMatch(/The other questions offer no way back/);
    expect(wizard).toMatch(/whether to configure RHACS's ECR integration/);
    expect(wizard).toMatch(/the questions about the plan already shown \(taking over what blocks it, restarting the pods now, applying it\)/);
  });

  it('asks to restart now (default yes) when EKS pods need a restart; "no" defers it like --no-restart', async () => {
    const o = opts({ roleName: 'r' });
    const ui = createMemoryUi({ interactive: true, answers: [false] });
    const answered = await askAfterPlan(o, planFor(o), ui);
    expect(ui.asked).toMatchObject([{ kind: 'confirm', default: true }]);
    expect(answered.restart).toBe(false);
    const deferred = planFor(answered);
    expect(deferred.actions.filter((a) => a.type === 'restart').every((a) => a.type === 'restart' && a.deferred && a.status === 'unchanged')).toBe(true);
    expect(deferred).toEqual(planFor(opts({ roleName: 'r', restart: false })));
  });

  it('does not ask about restarting after --no-restart, or when nothing needs a restart', async () => {
    const ui = createMemoryUi({ interactive: true });
    const o = opts({ roleName: 'r', restart: false });
    expect(await askAfterPlan(o, planFor(o), ui)).toBe(o);
    const noRhacsChange = facts([cluster({ components: ['central'], current: { central: { serviceAccount: { annotations: { 'eks.amazonaws.com/role-arn': `arn:aws:iam::${ACCOUNT}:role/r` } }, deployment: null } } })]);
    const p = buildPlan(noRhacsChange, decisionsFromOptions(opts({ roleName: 'r' }), noRhacsChange), EMPTY_AWS);
    expect(p.restarts).toEqual([]);
    expect(await askAfterPlan(opts({ roleName: 'r' }), p, ui)).toEqual(opts({ roleName: 'r' }));
    expect(ui.asked).toEqual([]);
  });

  it('offers to take over a role rhacs-sts did not create (default no), like --adopt-role', async () => {
    const foreign: AwsState = {
      oidcProviders: {},
      role: { arn: `arn:aws:iam::${ACCOUNT}:role/r`, path: '/', trustPolicy: { Version: '2012-10-17', Statement: [] }, inlinePolicies: {}, attachedPolicyArns: [], tags: {} },
    };
    const o = opts({ roleName: 'r', restart: false });
    const blocked = planFor(o, foreign);
    expect(blocked.blockers).toHaveLength(1);

    const no = createMemoryUi({ interactive: true, answers: [DEFAULT] });
    expect((await askAfterPlan(o, blocked, no)).adoptRole).toBe(false);
    expect(no.asked[0]).toMatchObject({ kind: 'confirm', default: false });
    expect(no.stderr.join('\n')).toMatch(/was not created by rhacs-sts/);

    const yes = createMemoryUi({ interactive: true, answers: [true] });
    const adopted = await askAfterPlan(o, blocked, yes);
    expect(adopted.adoptRole).toBe(true);
    expect(planFor(adopted, foreign).blockers).toEqual([]);
  });

  it('offers to switch an ECR integration someone else made in RHACS (default no), like --adopt-integration', async () => {
    const o = opts({ roleName: 'r', restart: false });
    const withIntegration = (x: Options) => {
      const p = planFor(x);
      addIntegrationToPlan(p, planIntegration({
        wanted: { registryId: ACCOUNT, region: 'eu-west-1' },
        integrations: [{ id: 'i-1', name: 'team', type: 'ecr', categories: ['REGISTRY'], ecr: { registryId: ACCOUNT, region: 'eu-west-1', accessKeyId: 'AKIAEXAMPLE' } }],
        adopt: x.adoptIntegration, ref: { namespace: 'stackrox', name: 'central' },
      }));
      return p;
    };
    const blocked = withIntegration(o);
    expect(blocked.blockers.map((b) => b.hint)).toEqual([expect.stringContaining('--adopt-integration')]);

    const no = createMemoryUi({ interactive: true, answers: [DEFAULT] });
    expect((await askAfterPlan(o, blocked, no)).adoptIntegration).toBe(false);
    expect(no.asked).toMatchObject([{ kind: 'confirm', default: false, message: expect.stringContaining('same as --adopt-integration') }]);
    expect(no.stderr.join('\n')).toContain('RHACS already has the ECR integration "team"');

    const yes = createMemoryUi({ interactive: true, answers: [true] });
    const adopted = await askAfterPlan(o, blocked, yes);
    expect(adopted.adoptIntegration).toBe(true);
    expect(withIntegration(adopted).blockers).toEqual([]);
    expect(withIntegration(adopted).actions.find((a) => a.type === 'central-integration')).toMatchObject({ status: 'update', op: 'adopt' });
  });

  it('asks by the flag a blocker names as its fix, not by its hint: wiring that names another role is not a role to take over', async () => {
    // The hint mentions --adopt-role (for configuring that other role instead), but only --replace-role-wiring resolves it.
    const other = `arn:aws:iam::${ACCOUNT}:role/someone-else`;
    const wired = facts([cluster({ current: { central: { serviceAccount: { annotations: { 'eks.amazonaws.com/role-arn': other } }, deployment: null }, sensor: { serviceAccount: { annotations: {} }, deployment: null } } })]);
    const o = opts({ roleName: 'r', restart: false });
    const blocked = buildPlan(wired, decisionsFromOptions(o, wired), EMPTY_AWS);
    expect(blocked.blockers.map((b) => b.fix)).toEqual(['--replace-role-wiring']);
    expect(blocked.blockers[0]!.hint).toContain('--adopt-role');
    // The plan document keeps its shape: a blocker is its message and hint.
    expect(Object.keys((JSON.parse(planToJson(blocked)) as { blockers: object[] }).blockers[0]!)).toEqual(['message', 'hint']);
    const ui = createMemoryUi({ interactive: true });
    expect(await askAfterPlan(o, blocked, ui)).toBe(o);
    expect(ui.asked).toEqual([]);
  });

  it('asks nothing without a terminal', async () => {
    const o = opts({ roleName: 'r' });
    expect(await askAfterPlan(o, planFor(o), createMemoryUi())).toBe(o);
  });
});

describe('askDetection: when detection cannot decide', () => {
  const target: ClusterTarget = { key: 'c1', context: 'c1', role: 'both', flag: '--context' };
  const SEVERAL = 'RHACS runs in several namespaces (acs-a (central, sensor); acs-b (sensor); rhacs (central)); say which one with --namespace';

  it('reads the candidate namespaces from the detection problem', () => {
    expect(namespaceCandidates(SEVERAL)).toEqual([
      { namespace: 'acs-a', components: 'central, sensor' },
      { namespace: 'acs-b', components: 'sensor' },
      { namespace: 'rhacs', components: 'central' },
    ]);
    expect(namespaceCandidates('no RHACS deployment in namespace "x"')).toEqual([]);
  });

  it('asks which namespace (default: the first with Central) and which provider', async () => {
    const ui = createMemoryUi({ interactive: true, answers: ['rhacs', DEFAULT] });
    expect(await askDetection({ source: '--namespace', message: SEVERAL }, target, ui)).toEqual({ namespace: 'rhacs' });
    expect(ui.asked[0]).toMatchObject({ kind: 'select', default: 'acs-a', choices: ['acs-a', 'acs-b', 'rhacs'] });
    expect(ui.asked[0]!.message).toMatch(/context c1/);
    expect(await askDetection({ source: '--provider', message: 'could not tell' }, target, ui)).toEqual({ provider: 'eks' });
    expect(ui.asked[1]).toMatchObject({ kind: 'select', choices: ['eks', 'openshift'] });
  });

  it('asks the region, validated', async () => {
    const ui = createMemoryUi({ interactive: true, answers: ['mars-1', 'ap-southeast-2'] });
    expect(await askDetection({ source: '--region', message: 'could not be detected' }, undefined, ui)).toEqual({ region: 'ap-southeast-2' });
    expect(ui.asked[0]!.errors[0]).toMatch(/not an AWS region/);
  });

  it('gives up (the flag error stands) when a question would not help or nobody is at the terminal', async () => {
    const ui = createMemoryUi({ interactive: true });
    expect(await askDetection({ source: '--namespace', message: 'RHACS was not found in the cluster' }, target, ui)).toBeUndefined();
    expect(await askDetection({ source: '--kubeconfig', message: 'x' }, target, ui)).toBeUndefined();
    expect(await askDetection({ source: '--provider', message: 'x' }, target, createMemoryUi())).toBeUndefined();
    expect(ui.asked).toEqual([]);
  });
});

describe('decisions from options', () => {
  it('--sensor-context implies delegated scanning; turning it off explicitly is an input error naming --sensor-context', () => {
    const f = facts();
    expect(decisionsFromOptions(opts({ centralContext: 'a', sensorContext: ['b'] }), f).delegatedScanning).toBe(true);
    expect(decisionsFromOptions(opts(), f).delegatedScanning).toBe(false);
    const bad = { ...opts({ centralContext: 'a', sensorContext: ['b'] }), delegatedScanning: false };
    const err = (() => { try { checkInitOptions(bad); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).problems[0]!.source).toBe('--sensor-context');
  });

  it('refuses ARNs and regions of another partition than the account and region detected (no --region), every one at once', () => {
    const err = (() => {
      try {
        decisionsFromOptions(opts({
          attachPolicyArn: ['arn:aws-cn:iam::aws:policy/ReadOnlyAccess', 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess'],
          permissionsBoundary: 'arn:aws-us-gov:iam::111122223333:policy/boundary',
          ecrRegion: 'cn-north-1',
          ecrAssumeRole: 'ecr-reader',
        }, 'plan'), facts());
      } catch (e) { return e; }
    })();
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).exitCode).toBe(2);
    expect((err as InputError).problems).toEqual([
      { source: '--permissions-boundary', message: `"arn:aws-us-gov:iam::111122223333:policy/boundary" is in partition "aws-us-gov" but this run's account ${ACCOUNT} (region eu-west-1) is in "aws"` },
      { source: '--attach-policy-arn', message: `"arn:aws-cn:iam::aws:policy/ReadOnlyAccess" is in partition "aws-cn" but this run's account ${ACCOUNT} (region eu-west-1) is in "aws"` },
      { source: '--ecr-region', message: expect.stringMatching(/"cn-north-1" is in partition "aws-cn" but this run's account .* is in "aws"/) as unknown as string },
    ]);
  });

  it('refuses --ecr-assume-role when the detected account is outside the commercial partition', () => {
    const cn = facts([cluster()], { partition: 'aws-cn', region: 'cn-north-1' });
    expect(() => decisionsFromOptions(opts({ ecrAssumeRole: 'ecr-reader' }, 'plan'), cn)).toThrow(/--ecr-assume-role: is for the commercial partition \("aws"\) only.*"aws-cn"/);
  });

  it('takes ARNs of the partition detected', () => {
    const cn = facts([cluster()], { partition: 'aws-cn', region: 'cn-north-1' });
    const d = decisionsFromOptions(opts({ attachPolicyArn: ['arn:aws-cn:iam::aws:policy/ReadOnlyAccess'], permissionsBoundary: 'arn:aws-cn:iam::111122223333:policy/b' }, 'plan'), cn);
    expect(d.attachPolicyArns).toEqual(['arn:aws-cn:iam::aws:policy/ReadOnlyAccess']);
    expect(d.permissionsBoundary).toBe('arn:aws-cn:iam::111122223333:policy/b');
  });

  it('splits repository answers on commas and spaces, without duplicates', () => {
    expect(splitRepositories(' a, b  c,,a ')).toEqual(['a', 'b', 'c']);
  });
});
