// The sandbox's model validation (aws-model.ts), on a small model of botocore's shape: what the
// gate's EKS stand-in refuses before it looks at a request, and how it matches URIs to operations.
import { describe, expect, it } from 'vitest';
import { matchOperation, validateShape, type ServiceModel } from './aws-model.js';

const model: ServiceModel = {
  metadata: { endpointPrefix: 'eks', protocol: 'rest-json' },
  operations: {
    Get: { name: 'Get', http: { method: 'GET', requestUri: '/clusters/{name}/things/{id}' }, input: { shape: 'In' } },
    List: { name: 'List', http: { method: 'GET', requestUri: '/clusters/{name}/things' }, input: { shape: 'In' } },
    Tags: { name: 'Tags', http: { method: 'GET', requestUri: '/tags/{resourceArn}' }, input: { shape: 'In' } },
  },
  shapes: {
    In: {
      type: 'structure',
      required: ['name'],
      members: { name: { shape: 'Name' }, max: { shape: 'Max' }, tags: { shape: 'Tags' }, keys: { shape: 'Keys' }, flag: { shape: 'Flag' } },
    },
    Name: { type: 'string', min: 1, max: 5, pattern: '^[a-z]+$' },
    Max: { type: 'integer', min: 1, max: 100 },
    Tags: { type: 'map', key: { shape: 'Name' }, value: { shape: 'Name' }, min: 1, max: 2 },
    Keys: { type: 'list', member: { shape: 'Name' }, min: 1 },
    Flag: { type: 'boolean' },
  },
};

describe('validateShape', () => {
  it('accepts a conforming value', () => {
    expect(validateShape(model, 'In', { name: 'abc', max: 10, tags: { a: 'b' }, keys: ['k'], flag: true })).toEqual([]);
  });

  it('names every violation with its member path', () => {
    const v = validateShape(model, 'In', { max: 101, tags: {}, keys: ['TOOLONG'], flag: 'yes' });
    expect(v.map((x) => `${x.path}: ${x.message}`)).toEqual([
      '(input): name is required',
      'max: must be at most 100',
      'tags: must have at least 1 entries',
      'keys[0]: must have at most 5 characters',
      'keys[0]: must match ^[a-z]+$',
      'flag: must be a boolean',
    ]);
    expect(validateShape(model, 'In', { name: 'a', max: 1.5 })).toEqual([{ path: 'max', message: 'must be an integer' }]);
  });
});

describe('matchOperation', () => {
  it('matches method and URI template, decoding labels', () => {
    expect(matchOperation(model, 'GET', '/clusters/eks/things/a-1')).toMatchObject({ op: { name: 'Get' }, labels: { name: 'eks', id: 'a-1' } });
    expect(matchOperation(model, 'GET', '/clusters/eks/things')).toMatchObject({ op: { name: 'List' }, labels: { name: 'eks' } });
    expect(matchOperation(model, 'GET', '/tags/arn%3Aaws%3Aeks%3Ax')).toMatchObject({ op: { name: 'Tags' }, labels: { resourceArn: 'arn:aws:eks:x' } });
    expect(matchOperation(model, 'POST', '/clusters/eks/things')).toBeUndefined();
    expect(matchOperation(model, 'GET', '/clusters/eks/other')).toBeUndefined();
  });
});
