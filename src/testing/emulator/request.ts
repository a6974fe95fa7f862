/**
 * Reading an incoming OpenAPI request once: parameters (query and form body), signature
 * version, action, version, caller and the signature fields.
 *
 * @internal
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { SignatureVersion } from './types.js';

/** The parts of a V3 `Authorization` header. */
export type V3Authorization = {
  algorithm: string;
  credential: string;
  signedHeaders: string[];
  signature: string;
};

/** An incoming request, decoded once (see {@link parseRequest}). */
export type ParsedRequest = {
  method: string;
  /** Path as sent, without the query (`/`). */
  rawPath: string;
  /** Decoded query parameters (last value wins). */
  query: Record<string, string>;
  /** Decoded form-body parameters (application/x-www-form-urlencoded only). */
  form: Record<string, string>;
  /** Query, then form (form wins): the API parameters plus, under V1, the common ones. */
  params: Record<string, string>;
  body: Buffer;
  headers: IncomingHttpHeaders;
  /** Every value of every header, by lower-case name (repeated headers kept apart). */
  headerValues: Record<string, string[]>;
  signatureVersion: SignatureVersion;
  action: string;
  version: string;
  accessKeyId: string | undefined;
  /** Present under V3; undefined when the header could not be parsed. */
  authorization: V3Authorization | undefined;
  /** The caller's SecurityToken (V1 `SecurityToken`, V3 `x-acs-security-token`). */
  securityToken: string | undefined;
  /** The signature nonce (V1 `SignatureNonce`, V3 `x-acs-signature-nonce`). */
  nonce: string | undefined;
  /** The request time (V1 `Timestamp`, V3 `x-acs-date`). */
  timestamp: string | undefined;
};

/** One header as a single string (repeated values joined with `,`), or undefined. */
export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(',') : value;
}

function searchParamsToRecord(search: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of search) out[key] = value;
  return out;
}

function valuesByName(headers: IncomingHttpHeaders, distinct: Record<string, string[] | undefined> | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (distinct !== undefined) {
    for (const [name, values] of Object.entries(distinct)) if (values !== undefined) out[name.toLowerCase()] = [...values];
    return out;
  }
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? [...value] : [value];
  }
  return out;
}

/** Parses `ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=a;b,Signature=hex`. */
export function parseV3Authorization(value: string): V3Authorization | undefined {
  const space = value.indexOf(' ');
  if (space <= 0) return undefined;
  const algorithm = value.slice(0, space);
  const fields: Record<string, string> = {};
  for (const part of value.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    fields[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  const { Credential: credential, SignedHeaders: signedHeaders, Signature: signature } = fields;
  if (!credential || !signedHeaders || !signature) return undefined;
  return {
    algorithm,
    credential,
    signedHeaders: signedHeaders.split(';').map((h) => h.trim().toLowerCase()),
    signature,
  };
}

/**
 * Decodes a request: parameters, signature version, action, version and caller.
 * `distinctHeaders` (Node's `req.headersDistinct`) keeps repeated headers apart for the V3
 * canonical headers; without it each header counts as one value.
 */
export function parseRequest(
  method: string,
  url: string,
  headers: IncomingHttpHeaders,
  body: Buffer,
  distinctHeaders?: Record<string, string[] | undefined>,
): ParsedRequest {
  const q = url.indexOf('?');
  const rawPath = q === -1 ? url : url.slice(0, q);
  const query = q === -1 ? {} : searchParamsToRecord(new URLSearchParams(url.slice(q + 1)));
  const contentType = (header(headers, 'content-type') ?? '').toLowerCase();
  const form = contentType.startsWith('application/x-www-form-urlencoded')
    ? searchParamsToRecord(new URLSearchParams(body.toString('utf8')))
    : {};
  const params = { ...query, ...form };

  const authHeader = header(headers, 'authorization');
  let signatureVersion: SignatureVersion;
  let authorization: V3Authorization | undefined;
  let accessKeyId: string | undefined;
  if (authHeader !== undefined && authHeader !== '') {
    signatureVersion = 'v3';
    authorization = parseV3Authorization(authHeader);
    accessKeyId = authorization?.credential;
  } else if (params.Signature !== undefined || params.AccessKeyId !== undefined || params.SignatureMethod !== undefined) {
    signatureVersion = 'v1';
    accessKeyId = params.AccessKeyId;
  } else {
    signatureVersion = 'anonymous';
  }

  const v3 = signatureVersion === 'v3';
  return {
    method: method.toUpperCase(),
    rawPath,
    query,
    form,
    params,
    body,
    headers,
    headerValues: valuesByName(headers, distinctHeaders),
    signatureVersion,
    // Anonymous RPC calls carry Action/Version as parameters; Tea clients also send x-acs-* headers.
    action: (v3 ? header(headers, 'x-acs-action') : params.Action) ?? params.Action ?? header(headers, 'x-acs-action') ?? '',
    version:
      (v3 ? header(headers, 'x-acs-version') : params.Version) ?? params.Version ?? header(headers, 'x-acs-version') ?? '',
    accessKeyId,
    authorization,
    securityToken: v3 ? header(headers, 'x-acs-security-token') : params.SecurityToken,
    nonce: v3 ? header(headers, 'x-acs-signature-nonce') : params.SignatureNonce,
    timestamp: v3 ? header(headers, 'x-acs-date') : params.Timestamp,
  };
}
