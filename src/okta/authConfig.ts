/*
 * The credentials of a provider: a service app's client id, key id and
 * private key, or an SSWS token. The key is parsed and its type checked
 * here, so that a key the client cannot sign with stops start-up rather
 * than every run.
 */
import { createPrivateKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { Config } from '@backstage/config';
import { signingAlgorithmOf } from './client/clientAssertion';
import type { OktaAuthOptions } from './client/types';
import { readNonEmptyString, type ProviderConfigErrors } from './configValues';

export function readAuth(
  config: Config,
  errors: ProviderConfigErrors,
): OktaAuthOptions {
  const privateKey = readNonEmptyString(config, 'privateKey', errors);
  const token = readNonEmptyString(config, 'token', errors);
  const clientId = readNonEmptyString(config, 'clientId', errors);
  const keyId = readNonEmptyString(config, 'keyId', errors);

  if (privateKey !== undefined && token !== undefined) {
    throw errors.error(
      '"privateKey" and "token" cannot both be set; use "clientId", "keyId" and "privateKey" (an API Services app), or "token" (an SSWS API token)',
    );
  }
  if (token !== undefined) {
    const stray = [clientId && 'clientId', keyId && 'keyId'].filter(Boolean);
    if (stray.length > 0) {
      throw errors.error(
        `${stray
          .map(k => `"${k}"`)
          .join(
            ' and ',
          )} only apply with "privateKey", not with "token"; remove ${
          stray.length > 1 ? 'them' : 'it'
        } or use a private key instead of the token`,
      );
    }
    return { kind: 'apiToken', token };
  }
  if (privateKey === undefined) {
    throw errors.error(
      'no credentials: set "clientId", "keyId" and "privateKey" (an Okta API Services app with private_key_jwt), or "token" (an SSWS API token)',
    );
  }
  if (clientId === undefined) {
    throw errors.error(
      '"clientId" is required with "privateKey" (the client id of the Okta API Services app)',
    );
  }
  const parsed = parsePrivateKey(privateKey, errors);
  if (keyId !== undefined && parsed.jwkKeyId && parsed.jwkKeyId !== keyId) {
    throw errors.error(
      `"keyId" is "${keyId}" but the JWK in "privateKey" has kid "${parsed.jwkKeyId}"; Okta rejects a client assertion whose kid does not match the registered key`,
    );
  }
  const resolvedKeyId = keyId ?? parsed.jwkKeyId;
  if (resolvedKeyId === undefined) {
    throw errors.error(
      '"keyId" is required with "privateKey" (the KID of the public key registered in the Okta app)',
    );
  }
  return {
    kind: 'privateKey',
    clientId,
    keyId: resolvedKeyId,
    privateKey: parsed.privateKey,
  };
}

/**
 * Checks that the private key parses, so that a bad key stops start-up rather
 * than every run. Returns the key as the client should receive it.
 *
 * Error messages of the parsers are not passed on: JSON.parse quotes the
 * input it failed on, which here is the key.
 */
function parsePrivateKey(
  value: string,
  errors: ProviderConfigErrors,
): { privateKey: string; jwkKeyId?: string } {
  if (value.startsWith('{')) {
    let jwk: unknown;
    try {
      jwk = JSON.parse(value);
    } catch {
      throw errors.error(
        '"privateKey" looks like a JWK but is not valid JSON (expected a PEM private key or a JWK as a JSON string)',
      );
    }
    if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
      throw errors.error('"privateKey" is not a JWK object');
    }
    const fields = jwk as Record<string, unknown>;
    if (typeof fields.d !== 'string') {
      throw errors.error(
        '"privateKey" is a JWK without its private part ("d"); paste the private key, not the public one',
      );
    }
    const key = tryCreatePrivateKey(() =>
      createPrivateKey({ key: fields as JsonWebKey, format: 'jwk' }),
    );
    if (!key) {
      throw errors.error(
        '"privateKey" is a JWK that does not parse as a private key',
      );
    }
    checkKeyType(key, errors, fields.alg);
    return {
      privateKey: value,
      ...(typeof fields.kid === 'string' && fields.kid.length > 0
        ? { jwkKeyId: fields.kid }
        : {}),
    };
  }

  // Keys passed through environment variables often arrive with literal "\n".
  const pem =
    value.includes('\\n') && !value.includes('\n')
      ? value.replace(/\\n/g, '\n')
      : value;
  if (!pem.includes('-----BEGIN')) {
    throw errors.error(
      '"privateKey" is neither a PEM private key ("-----BEGIN PRIVATE KEY-----...") nor a JWK JSON string',
    );
  }
  if (
    /-----BEGIN (?:RSA |EC )?PUBLIC KEY-----|-----BEGIN CERTIFICATE-----/.test(
      pem,
    )
  ) {
    throw errors.error(
      '"privateKey" holds a public key or certificate; paste the private key generated with the Okta app',
    );
  }
  const key = tryCreatePrivateKey(() => createPrivateKey(pem));
  if (!key) {
    throw errors.error(
      '"privateKey" is a PEM block that does not parse as a private key (check that it was copied whole, with its BEGIN and END lines)',
    );
  }
  checkKeyType(key, errors);
  return { privateKey: pem };
}

function tryCreatePrivateKey(create: () => KeyObject): KeyObject | undefined {
  try {
    return create();
  } catch {
    return undefined;
  }
}

/** Only keys the client can sign with pass: the client's own rule decides. */
function checkKeyType(
  key: KeyObject,
  errors: ProviderConfigErrors,
  preferred?: unknown,
) {
  const usable = signingAlgorithmOf(key, preferred);
  if ('unusable' in usable) {
    throw errors.error(`"privateKey" ${usable.unusable}`);
  }
}
