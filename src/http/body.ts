import express, { type RequestHandler } from "express";

/** JSON body parser for the API and SCIM (mounted after authentication, so strangers' bodies are never parsed). */
export function jsonBody(limitBytes: number): RequestHandler {
  return express.json({
    // RFC 7644 §3.1: application/scim+json; plain JSON accepted too.
    type: ["application/json", "application/scim+json", "application/*+json"],
    limit: limitBytes,
    strict: true,
  });
}
