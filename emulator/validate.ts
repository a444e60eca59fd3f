/**
 * A tiny strict validator that reports the first problem the way OpenAI does:
 * `unknown_parameter`, `missing_required_parameter`, `invalid_type`, `invalid_value`,
 * `integer_below_min_value`… with a dotted `param` path.
 *
 * @module
 */
import { ApiError } from "./errors.ts";

/** A value shape. */
export type Spec =
  | { k: "string" }
  | { k: "number"; min?: number; max?: number; int?: boolean }
  | { k: "boolean" }
  | { k: "any" }
  | { k: "enum"; values: readonly (string | number)[] }
  | { k: "array"; of: Spec }
  | { k: "nullable"; of: Spec }
  | { k: "object"; fields: Record<string, Spec>; required?: string[] }
  | { k: "record"; key: Spec; value: Spec }
  | {
    k: "tagged";
    tag: string;
    variants: Record<string, Spec>;
    fallback?: string;
  }
  | { k: "either"; options: Spec[]; expected: string };

/** Helpers for building specs. */
export const s = {
  string: (): Spec => ({ k: "string" }),
  boolean: (): Spec => ({ k: "boolean" }),
  any: (): Spec => ({ k: "any" }),
  int: (min?: number, max?: number): Spec => ({
    k: "number",
    int: true,
    min,
    max,
  }),
  num: (min?: number, max?: number): Spec => ({ k: "number", min, max }),
  enum: (...values: (string | number)[]): Spec => ({ k: "enum", values }),
  array: (of: Spec): Spec => ({ k: "array", of }),
  nullable: (of: Spec): Spec => ({ k: "nullable", of }),
  object: (fields: Record<string, Spec>, required: string[] = []): Spec => ({
    k: "object",
    fields,
    required,
  }),
  tagged: (
    tag: string,
    variants: Record<string, Spec>,
    fallback?: string,
  ): Spec => ({
    k: "tagged",
    tag,
    variants,
    fallback,
  }),
  record: (key: Spec, value: Spec): Spec => ({ k: "record", key, value }),
  either: (expected: string, ...options: Spec[]): Spec => ({
    k: "either",
    options,
    expected,
  }),
};

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "number") {
    return Number.isInteger(v) ? "an integer" : "a decimal";
  }
  if (typeof v === "string") return "a string";
  if (typeof v === "boolean") return "a boolean";
  return "an object";
}

function expectedOf(spec: Spec): string {
  switch (spec.k) {
    case "string":
    case "enum":
      return "a string";
    case "number":
      return spec.int ? "an integer" : "a number";
    case "boolean":
      return "a boolean";
    case "array":
      return "an array";
    case "object":
    case "record":
    case "tagged":
      return "an object";
    case "nullable":
      return expectedOf(spec.of);
    case "either":
      return spec.expected;
    default:
      return "a value";
  }
}

function typeError(path: string, spec: Spec, v: unknown): ApiError {
  return new ApiError(
    400,
    "invalid_type",
    `Invalid type for '${path}': expected ${expectedOf(spec)}, but got ${describe(v)} instead.`,
    path,
  );
}

function listValues(values: readonly (string | number)[]): string {
  const q = values.map((v) => `'${v}'`);
  if (q.length <= 1) return q.join("");
  return `${q.slice(0, -1).join(", ")}, and ${q[q.length - 1]}`;
}

/** Builds OpenAI's `invalid_value` error for an enum. */
export function invalidValue(
  path: string,
  value: unknown,
  values: readonly (string | number)[],
): ApiError {
  return new ApiError(
    400,
    "invalid_value",
    `Invalid value: '${String(value)}'. Supported values are: ${listValues(values)}.`,
    path,
  );
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function join(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

/** Validates `value` against `spec`; throws the first {@linkcode ApiError}. */
export function check(spec: Spec, value: unknown, path: string): void {
  switch (spec.k) {
    case "any":
      return;
    case "nullable":
      if (value === null) return;
      return check(spec.of, value, path);
    case "string":
      if (typeof value !== "string") throw typeError(path, spec, value);
      return;
    case "boolean":
      if (typeof value !== "boolean") throw typeError(path, spec, value);
      return;
    case "number": {
      if (typeof value !== "number" || !Number.isFinite(value)) {
        throw typeError(path, spec, value);
      }
      if (spec.int && !Number.isInteger(value)) {
        throw typeError(path, spec, value);
      }
      const kind = spec.int ? "integer" : "decimal";
      if (spec.min !== undefined && value < spec.min) {
        throw new ApiError(
          400,
          `${kind}_below_min_value`,
          `Invalid '${path}': ${kind} below minimum value. Expected a value >= ${spec.min}, but got ${value} instead.`,
          path,
        );
      }
      if (spec.max !== undefined && value > spec.max) {
        throw new ApiError(
          400,
          `${kind}_above_max_value`,
          `Invalid '${path}': ${kind} above maximum value. Expected a value <= ${spec.max}, but got ${value} instead.`,
          path,
        );
      }
      return;
    }
    case "enum":
      if (typeof value !== "string" && typeof value !== "number") {
        throw typeError(path, spec, value);
      }
      if (!spec.values.includes(value)) {
        throw invalidValue(path, value, spec.values);
      }
      return;
    case "array":
      if (!Array.isArray(value)) throw typeError(path, spec, value);
      value.forEach((v, i) => check(spec.of, v, join(path, i)));
      return;
    case "either": {
      let first: unknown;
      for (const o of spec.options) {
        try {
          check(o, value, path);
          return;
        } catch (e) {
          first ??= e;
        }
      }
      throw first;
    }
    case "object": {
      if (!isPlainObject(value)) throw typeError(path, spec, value);
      for (const key of Object.keys(value)) {
        const f = spec.fields[key];
        if (!f) {
          throw new ApiError(
            400,
            "unknown_parameter",
            `Unknown parameter: '${join(path, key)}'.`,
            join(path, key),
          );
        }
      }
      for (const key of spec.required ?? []) {
        if (value[key] === undefined) {
          throw new ApiError(
            400,
            "missing_required_parameter",
            `Missing required parameter: '${join(path, key)}'.`,
            join(path, key),
          );
        }
      }
      for (const [key, v] of Object.entries(value)) {
        if (v === undefined) continue;
        check(spec.fields[key], v, join(path, key));
      }
      return;
    }
    case "record": {
      if (!isPlainObject(value)) throw typeError(path, spec, value);
      for (const [key, v] of Object.entries(value)) {
        check(spec.key, key, join(path, key));
        check(spec.value, v, join(path, key));
      }
      return;
    }
    case "tagged": {
      if (!isPlainObject(value)) throw typeError(path, spec, value);
      const tag = value[spec.tag] ?? spec.fallback;
      if (tag === undefined) {
        throw new ApiError(
          400,
          "missing_required_parameter",
          `Missing required parameter: '${join(path, spec.tag)}'.`,
          join(path, spec.tag),
        );
      }
      const names = Object.keys(spec.variants);
      if (typeof tag !== "string" || !names.includes(tag)) {
        throw invalidValue(join(path, spec.tag), tag, names);
      }
      return check(spec.variants[tag], value, path);
    }
  }
}
