import type { z } from "zod";
import { AppError } from "./errors.js";

/** Parse a request body (or query) with a zod schema; 400 VALIDATION_FAILED naming each bad field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, where = "body"): z.output<S> {
  if (input === undefined) input = {};
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const details = result.error.issues.map((i) => {
    const keys = i.code === "unrecognized_keys" ? (i as { keys: string[] }).keys : [];
    const field = [...i.path, ...(keys.length === 1 ? keys : [])].join(".") || where;
    const message =
      i.code === "unrecognized_keys"
        ? `unknown field${keys.length > 1 ? `s ${keys.join(", ")}` : ""}`
        : i.message;
    return { field, message };
  });
  const summary = details.map((d) => `${d.field}: ${d.message}`).join("; ");
  throw new AppError(400, "VALIDATION_FAILED", `Invalid ${where}: ${summary}`, details);
}
