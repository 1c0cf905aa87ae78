/** Why a sign-in failed (SAML or OpenID Connect): a code for events and reports, a sentence for the person, details for the admin. */
export class SsoFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly status = 403,
  ) {
    super(message);
    this.name = "SsoFailure";
  }
}
