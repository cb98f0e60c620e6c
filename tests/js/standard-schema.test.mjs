// Standard Schema v1: createValidator / updateValidator of the installed package, checked by the
// spec's shape and by a real consumer, TanStack Form (@tanstack/form-core from npm), which takes
// any Standard Schema validator and must put each error on its field.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { NODE_MODULES, SECRET, installPackage, validConnector } from './helpers.mjs';

const kc = await installPackage().load();
const { FormApi, FieldApi } = await import(
  pathToFileURL(join(NODE_MODULES, '@tanstack', 'form-core', 'dist', 'esm', 'index.js')).href
);

test('the ~standard props: version 1, vendor, a synchronous validate', () => {
  for (const validator of [kc.createValidator(), kc.updateValidator({ current: validConnector() })]) {
    const props = validator['~standard'];
    assert.equal(props.version, 1);
    assert.equal(props.vendor, 'kinesis-connector');
    assert.equal(typeof props.validate, 'function');
  }
});

test('a valid payload gives { value } with the normalized connector and no issues', () => {
  const input = { ...validConnector(), dataProcessingMethod: 'enrich' };
  delete input.disabled;
  const result = kc.createValidator({ methods: ['enrich'] })['~standard'].validate(input);
  assert.equal(result.issues, undefined);
  assert.deepEqual(result.value, kc.validateCreate(input, { methods: ['enrich'] }).value);
  assert.equal(result.value.dataProcessingMethodId, 'enrich');
  assert.equal(result.value.disabled, false);
});

test('errors become issues with paths as keys; root issues have no path; warnings do not fail', () => {
  const v = kc.createValidator()['~standard'];
  const bad = { ...validConnector(), region: 'us-west2', credentials: { user: 'short', password: SECRET } };
  const { issues } = v.validate(bad);
  const byPath = Object.fromEntries(issues.map((i) => [JSON.stringify(i.path), i.message]));
  assert.match(byPath['["region"]'], /did you mean "us-west-2"/);
  assert.ok(byPath['["credentials","user"]'], JSON.stringify(issues));
  assert.equal(issues.length, kc.validateCreate(bad).errors.length);
  // not an object: one issue about the whole payload, without a path
  const root = v.validate('nope').issues;
  assert.equal(root.length, 1);
  assert.equal(root[0].path, undefined);
  assert.match(root[0].message, /object/);
  // a key with '/' and '~' comes back unescaped from the JSON pointer
  const odd = v.validate({ ...validConnector(), 'a/b~c': 1 }).issues;
  assert.deepEqual(odd.map((i) => i.path), [['a/b~c']]);
  // a shard count above the quota is only a warning
  assert.ok(kc.validateCreate({ ...validConnector(), shards: 600 }).warnings.length > 0);
  assert.equal(v.validate({ ...validConnector(), shards: 600 }).issues, undefined);
});

test('the context: an object, or a function asked at every validation', () => {
  let existing = [];
  const v = kc.createValidator(() => ({ existingIds: existing }))['~standard'];
  assert.equal(v.validate(validConnector()).issues, undefined);
  existing = ['DC.Kinesis.1'];
  assert.deepEqual(v.validate(validConnector()).issues.map((i) => i.path), [['id']]);
  const update = kc.updateValidator({ current: validConnector() })['~standard'];
  assert.deepEqual(update.validate({ shards: 4 }).value, { shards: 4 });
  assert.deepEqual(update.validate({ id: 'other' }).issues.map((i) => i.path), [['id']]);
  // a context function that throws is an issue, not a throw
  const throwing = kc.createValidator(() => { throw new Error('boom'); })['~standard'];
  assert.match(throwing.validate(validConnector()).issues[0].message, /boom/);
});

/** A TanStack form over `values` with `validator` at the form level, and a field for each name. */
function tanstackForm(values, validator, names) {
  const form = new FormApi({ defaultValues: values, validators: { onSubmit: validator } });
  form.mount();
  const fields = Object.fromEntries(
    names.map((name) => {
      const field = new FieldApi({ form, name });
      field.mount();
      return [name, field];
    }),
  );
  return { form, fields };
}

test('TanStack Form shows each error at its field, and submits once the values are fixed', async () => {
  const names = ['id', 'region', 'stream', 'shards', 'credentials.user', 'credentials.password'];
  const values = { ...validConnector(), id: '1abc', region: 'us-west2', credentials: { user: 'AKIAIOSFODNN7EXAMPLE', password: SECRET } };
  let submitted = null;
  const { form, fields } = tanstackForm(values, kc.createValidator({ existingIds: ['dc.other'] }), names);
  form.options.onSubmit = ({ value }) => {
    submitted = value;
  };
  await form.handleSubmit();
  assert.equal(submitted, null, 'an invalid form must not submit');
  const messages = (name) => fields[name].state.meta.errors.flat().map((e) => (typeof e === 'string' ? e : e.message));
  assert.equal(messages('id').length, 1, JSON.stringify(fields.id.state.meta.errors));
  assert.match(messages('id')[0], /letter/);
  assert.match(messages('region')[0], /did you mean "us-west-2"/);
  for (const name of ['stream', 'shards', 'credentials.user', 'credentials.password']) {
    assert.deepEqual(messages(name), [], name);
  }

  fields.id.setValue('dc.kinesis.2');
  fields.region.setValue('us-west-2');
  fields['credentials.user'].setValue('short');
  await form.handleSubmit();
  assert.equal(submitted, null);
  assert.deepEqual(messages('id'), []);
  assert.deepEqual(messages('region'), []);
  assert.equal(messages('credentials.user').length, 1);

  fields['credentials.user'].setValue('AKIAIOSFODNN7EXAMPLE');
  await form.handleSubmit();
  assert.notEqual(submitted, null, `a valid form submits: ${JSON.stringify(form.state.errors)}`);
  assert.equal(submitted.region, 'us-west-2');
  for (const name of names) assert.deepEqual(messages(name), [], name);
});
