// Entry points of kinesis-connector. The model and result types come from ./types.js
// (types.d.ts, generated from the Rust types with ts-rs); this file only declares the functions.
import type {
  Connector,
  Context,
  DiffResult,
  JsonValue,
  NormalizeResult,
  RegionInfo,
  UpdatePayload,
  ValidationResult,
} from './types.js';

export type * from './types.js';

/**
 * The app's context for {@link diff}: its connectors' ids and methods (the saved connector is
 * `diff`'s first argument, so there is no `current`).
 */
export type DiffContext = Pick<Context, 'existingIds' | 'methods'>;

/** A JSON Schema (draft 2020-12) document, as `createSchema()` / `updateSchema()` return it. */
export type JsonSchema = { [keyword: string]: JsonValue };

/**
 * Validates a create payload (the POST body). Any JS value is accepted and never throws: values
 * JSON cannot carry (NaN, BigInt, cycles, ...) are reported at their path. `value` is the
 * normalized connector when `valid`.
 */
export declare function validateCreate(input: unknown, context?: Context): ValidationResult<Connector>;

/**
 * Validates an update payload (the PUT body, merge-patch semantics). With `context.current` (the
 * saved connector) the merged result is checked too, and a shard change reports its resharding
 * steps. `value` is the normalized update when `valid`.
 */
export declare function validateUpdate(input: unknown, context?: Context): ValidationResult<UpdatePayload>;

/** {@link validateCreate} for JSON text; a syntax error is an `input.syntax` issue with `line` and `column`. */
export declare function validateCreateJson(text: string, context?: Context): ValidationResult<Connector>;

/** {@link validateUpdate} for JSON text. */
export declare function validateUpdateJson(text: string, context?: Context): ValidationResult<UpdatePayload>;

/**
 * Normalizes a create payload as a form would submit it: trims strings, lower-cases `type` and
 * `region`, turns `"2"` / `"true"` into numbers / booleans, renames `dataProcessingMethod`, fills
 * `disabled: false`, canonical key order. Pure and idempotent; does not validate.
 */
export declare function normalizeCreate(input: unknown): NormalizeResult;

/** Normalizes an update payload (like {@link normalizeCreate}, without filling defaults). */
export declare function normalizeUpdate(input: unknown): NormalizeResult;

/**
 * What turns `saved` into `desired`: `action` (`none`, `update` with the minimal PUT body in
 * `update`, or `replace` with the POST body in `create`), one `changes` entry per field with
 * the effect on the running connector, and `requests`, the plan to send: `[]`, one `PUT` of
 * `update` to the saved id, or `DELETE` of the saved id then `POST` of `create`. Send them only
 * when `valid`. With a `context`, the requests are checked as the platform would check them (the
 * PUT body as an update of `saved`, the POST body as a create; the saved id does not count as
 * taken) and their issues join `errors` / `warnings`. Secret values never appear in `changes`.
 */
export declare function diff(saved: unknown, desired: unknown, context?: DiffContext): DiffResult;

/** Merges `update` into `saved` and validates the result; `value` is the merged, normalized connector. */
export declare function applyUpdate(saved: unknown, update: unknown): ValidationResult<Connector>;

/** The 20 AWS regions a connector may use, with their display names. */
export declare function regions(): RegionInfo[];

/** JSON Schema of the create payload (titles, descriptions, region labels, write-only password). */
export declare function createSchema(): JsonSchema;

/** JSON Schema of the update payload. */
export declare function updateSchema(): JsonSchema;

/**
 * The Standard Schema v1 interface (https://standardschema.dev), declared here as the spec
 * recommends, so the package has no dependency: form and API libraries that accept zod or
 * valibot schemas accept these validators.
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': StandardSchemaV1.Props<Input, Output>;
}

export declare namespace StandardSchemaV1 {
  interface Props<Input = unknown, Output = Input> {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => Result<Output> | Promise<Result<Output>>;
    readonly types?: Types<Input, Output> | undefined;
  }
  type Result<Output> = SuccessResult<Output> | FailureResult;
  interface SuccessResult<Output> {
    readonly value: Output;
    readonly issues?: undefined;
  }
  interface FailureResult {
    readonly issues: ReadonlyArray<Issue>;
  }
  interface Issue {
    readonly message: string;
    readonly path?: ReadonlyArray<PropertyKey | PathSegment> | undefined;
  }
  interface PathSegment {
    readonly key: PropertyKey;
  }
  interface Types<Input = unknown, Output = Input> {
    readonly input: Input;
    readonly output: Output;
  }
}

/** The app's context for a validator, or a function asked for it at every validation. */
export type ContextSource = Context | (() => Context | undefined);

/**
 * A Standard Schema validator of create payloads: `validate(value)` runs {@link validateCreate}
 * with the context and returns `{ value }` (the normalized connector) when valid, else
 * `{ issues }`, one per error with its `path` as property keys (`['credentials', 'user']`; no
 * path for an issue about the whole payload). Warnings do not fail it. Never throws.
 */
export declare function createValidator(context?: ContextSource): StandardSchemaV1<unknown, Connector>;

/** A Standard Schema validator of update payloads ({@link validateUpdate}; give `current` in the context). */
export declare function updateValidator(context?: ContextSource): StandardSchemaV1<unknown, UpdatePayload>;

/**
 * Where the JSON pointer `pointer` is in the JSON `text` (1-based line and column), as the
 * command line reports issues; `null` when the text does not parse. A pointer to a missing value
 * gives the place of its nearest parent.
 */
export declare function locate(text: string, pointer: string): { line: number; column: number } | null;
