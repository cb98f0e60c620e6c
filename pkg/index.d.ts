// Entry points of kinesis-connector. The result and model types live in ./types.js (types.d.ts,
// generated from the Rust types); this file only declares the functions.
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

/** A JSON Schema (draft 2020-12) document. */
export type JsonSchema = { [key: string]: JsonValue };

/** Validates a create payload (POST body). Never throws: any input gives a result. */
export declare function validateCreate(input: unknown, context?: Context): ValidationResult<Connector>;
/** Validates an update payload (PUT body, merge patch); pass `context.current` to check the merged connector. */
export declare function validateUpdate(input: unknown, context?: Context): ValidationResult<UpdatePayload>;
/** Like {@link validateCreate} for JSON text; a syntax error is an `input.syntax` issue with line and column. */
export declare function validateCreateJson(text: string, context?: Context): ValidationResult<Connector>;
/** Like {@link validateUpdate} for JSON text. */
export declare function validateUpdateJson(text: string, context?: Context): ValidationResult<UpdatePayload>;
/** Normalizes a create payload (trims, lower-cases, converts form strings, canonical key order). */
export declare function normalizeCreate(input: unknown): NormalizeResult;
/** Normalizes an update payload. */
export declare function normalizeUpdate(input: unknown): NormalizeResult;
/** The minimal update (or replacement) that turns `saved` into `desired`, with the effect of each change. */
export declare function diff(saved: unknown, desired: unknown): DiffResult;
/** Merges `update` into `saved` and validates the result; `value` is the merged, normalized connector. */
export declare function applyUpdate(saved: unknown, update: unknown): ValidationResult<Connector>;
/** The 20 AWS regions a connector may use, with display names. */
export declare function regions(): RegionInfo[];
/** JSON Schema of the create payload. */
export declare function createSchema(): JsonSchema;
/** JSON Schema of the update payload. */
export declare function updateSchema(): JsonSchema;
