import { AppError } from "../http/errors.js";

/** Directory failures, each with its HTTP status, admin code and SCIM scimType. */
export const directoryErrors = {
  userNameTaken: (userName: string) =>
    new AppError(
      409,
      "USER_NAME_TAKEN",
      `userName '${userName}' is already in use in this tenant`,
      undefined,
      "uniqueness",
    ),
  externalIdTaken: (externalId: string) =>
    new AppError(
      409,
      "EXTERNAL_ID_TAKEN",
      `externalId '${externalId}' is already in use in this tenant`,
      undefined,
      "uniqueness",
    ),
  groupNameTaken: (name: string) =>
    new AppError(
      409,
      "GROUP_NAME_TAKEN",
      `A group named '${name}' already exists in this tenant`,
      undefined,
      "uniqueness",
    ),
  userNotFound: (id: string) => new AppError(404, "USER_NOT_FOUND", `User ${id} not found`),
  groupNotFound: (id: string) => new AppError(404, "GROUP_NOT_FOUND", `Group ${id} not found`),
  versionMismatch: (current: number) =>
    new AppError(412, "PRECONDITION_FAILED", `The resource has changed (current version W/"${current}")`),
  unknownMembers: (ids: string[]) =>
    new AppError(
      400,
      "UNKNOWN_MEMBER",
      `No user or group with id ${ids.slice(0, 5).join(", ")}${ids.length > 5 ? ` (+${ids.length - 5} more)` : ""} in this tenant`,
      undefined,
      "invalidValue",
    ),
  cycle: (memberId: string) =>
    new AppError(
      400,
      "GROUP_CYCLE",
      `Adding group ${memberId} would make a group contain itself`,
      undefined,
      "invalidValue",
    ),
  conflictRetry: () =>
    new AppError(409, "CONCURRENT_UPDATE", "The resource kept changing; retry the request"),
};

/** Which unique index a violation hit, from the driver's message or constraint name. */
export function violatedIndex(err: unknown): string {
  const e = err as { constraint?: string; message?: string };
  return `${e.constraint ?? ""} ${e.message ?? ""}`;
}

/** RFC 7644 §3.14 If-Match: 412 unless the current version is one the client named (none named: any). */
export function assertVersion(current: number, ifVersions: number[] | undefined): void {
  if (ifVersions && !ifVersions.includes(current)) throw directoryErrors.versionMismatch(current);
}
