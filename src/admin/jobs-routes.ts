import { Router } from "express";
import { z } from "zod";
import { MAX_SERIAL_ID, serialId } from "../db/rows.js";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { parseInput } from "../http/validate.js";
import { notifyJobsEnqueued } from "../jobs/notify.js";
import { type JobRow, listJobs, resetFailedJob } from "../jobs/store.js";
import { requireTenant } from "../tenants/use-cases.js";

const listQuery = z
  .object({
    state: z.enum(["pending", "running", "relayed", "done", "failed"]).optional(),
    tenant: z.string().min(1).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    before: z.coerce.number().int().min(1).max(MAX_SERIAL_ID).optional(),
  })
  .strict();

/** A job as the admin API shows it. */
function publicJob(j: JobRow) {
  return {
    id: String(j.id),
    name: j.name,
    queue: j.queue,
    tenantId: j.tenantId,
    state: j.state,
    attempts: j.attempts,
    maxAttempts: j.maxAttempts,
    payload: j.payload,
    lastError: j.lastError,
    runAt: j.runAt,
    createdAt: j.createdAt,
    updatedAt: j.updatedAt,
  };
}

/** Admin API for jobs: dead letters and retries (under /admin/v1/jobs). */
export function jobRoutes(deps: Deps): Router {
  const r = Router();
  r.get("/jobs", async (req, res) => {
    const q = parseInput(listQuery, req.query, "query");
    const tenantId = q.tenant ? (await requireTenant(deps, q.tenant)).id : undefined;
    const list = await listJobs(deps.db, { state: q.state, tenantId, limit: q.limit, beforeId: q.before });
    res.json({ jobs: list.map(publicJob), next: list.length === q.limit ? String(list.at(-1)!.id) : null });
  });
  r.post("/jobs/:id/retry", async (req, res) => {
    const id = serialId(req.params.id);
    const job = id ? await resetFailedJob(deps.db, id, deps.now()) : undefined;
    if (!job) throw new AppError(404, "FAILED_JOB_NOT_FOUND", `No failed job with id ${req.params.id}`);
    notifyJobsEnqueued();
    res.status(202).json(publicJob(job));
  });
  return r;
}
