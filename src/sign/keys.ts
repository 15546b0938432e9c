import crypto from 'node:crypto'
import fs from 'node:fs'
import { fileProblem, ReproofError } from '../errors.js'
import { sha256Hex } from '../sha256.js'
import { readBounded } from '../io/read-bounded.js'
import { encryptPrivateKey } from './encrypted-key.js'

/** Key types whose signatures every Sigstore verifier checks the same way. */
export type KeyKind = 'ecdsa-p256' | 'ed25519'

/** A new ECDSA P-256 pair in PEM: PKCS#8 private key (encrypted with a passphrase if given), SPKI public key. */
export function generateKeyPair(passphrase: string | undefined): {
  privatePem: string
  publicPem: string
} {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const privatePem =
    passphrase === undefined
      ? privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
      : encryptPrivateKey(privateKey, passphrase)
  return {
    privatePem,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  }
}

/**
 * Writes `<base>.key` (mode 0600) and `<base>.pub`, refusing to overwrite either. Both
 * are created exclusively; if the second cannot be, the first is removed again.
 */
export function writeKeyPair(
  base: string,
  pair: { privatePem: string; publicPem: string },
): { privateFile: string; publicFile: string } {
  // `--out ''` wrote the hidden files `.key` and `.pub`; `--out dir/` likewise in dir.
  if (base === '' || base.endsWith('/'))
    throw new ReproofError(
      'E_USAGE',
      `--out ${JSON.stringify(base)}: a base name is needed (--out release gives release.key and release.pub)`,
    )
  const privateFile = `${base}.key`
  const publicFile = `${base}.pub`
  // lstat, not exists: a link (dangling or not) is there too, and is not written through.
  for (const file of [privateFile, publicFile]) {
    let there
    try {
      there = fs.lstatSync(file, { throwIfNoEntry: false })
    } catch (err) {
      throw new ReproofError(
        'E_INPUT',
        `${file}: cannot be written (${fileProblem(err, 'no such directory')})`,
        { path: file },
        { cause: err },
      )
    }
    if (there !== undefined) throw alreadyThere(file)
  }
  writeExclusive(privateFile, pair.privatePem, 0o600)
  try {
    writeExclusive(publicFile, pair.publicPem, 0o644)
  } catch (err) {
    fs.rmSync(privateFile, { force: true })
    throw err
  }
  return { privateFile, publicFile }
}

const alreadyThere = (file: string): ReproofError =>
  new ReproofError('E_INPUT', `${file}: already exists; reproof never overwrites a key`, {
    path: file,
  })

function writeExclusive(file: string, text: string, mode: number): void {
  let fd: number
  try {
    fd = fs.openSync(file, 'wx', mode)
  } catch (err) {
    // Made meanwhile: the same answer as found before.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw alreadyThere(file)
    throw new ReproofError(
      'E_INPUT',
      `${file}: cannot be written (${fileProblem(err, 'no such directory')})`,
      { path: file },
      { cause: err },
    )
  }
  try {
    fs.writeFileSync(fd, text)
    fs.fchmodSync(fd, mode)
    fs.fsyncSync(fd)
  } catch (err) {
    // No key left half-written: an empty one blocked the retry ("already exists").
    fs.closeSync(fd)
    fs.rmSync(file, { force: true })
    throw new ReproofError(
      'E_ENVIRONMENT',
      `${file}: cannot be written (${fileProblem(err, 'no such directory')}); nothing was kept`,
      { path: file },
      { cause: err },
    )
  }
  fs.closeSync(fd)
}

// A PEM key is a few hundred bytes; an RSA one of 16384 bits under 13 KB.
const MAX_KEY_BYTES = 64 * 1024

/** Reads a private key; only the key types in {@link KeyKind} are accepted. The key's bytes never reach an error message. */
export function loadPrivateKey(
  file: string,
  passphrase: string | undefined,
): { key: crypto.KeyObject; kind: KeyKind } {
  const pem = readBounded(file, MAX_KEY_BYTES, `--key ${file}`).toString('utf8')
  // Node ignores a passphrase given for a key that is not encrypted: the caller, who
  // believes the key on disk is protected, would never learn it is not.
  const encrypted = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type:\s*4,ENCRYPTED/.test(pem)
  if (passphrase !== undefined && !encrypted)
    throw new ReproofError(
      'E_INPUT',
      `--key ${file}: not encrypted, though a passphrase was given (--passphrase-env); anyone who can read the file can sign with it: encrypt it (reproof keygen --passphrase-env), or leave out --passphrase-env`,
      { path: file },
    )
  let key: crypto.KeyObject
  try {
    key = crypto.createPrivateKey({
      key: pem,
      format: 'pem',
      ...(passphrase === undefined ? {} : { passphrase }),
    })
  } catch (err) {
    throw new ReproofError(
      'E_INPUT',
      `--key ${file}: not a PEM private key${passphrase === undefined ? ' (if it is encrypted, give --passphrase-env)' : ', or the passphrase is wrong'}`,
      { path: file },
      { cause: err },
    )
  }
  return { key, kind: keyKind(key, file) }
}

export function keyKind(key: crypto.KeyObject, file: string): KeyKind {
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519'
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1')
    return 'ecdsa-p256'
  throw new ReproofError(
    'E_INPUT',
    `${file}: a ${key.asymmetricKeyType ?? 'unknown'} key; only ECDSA P-256 and Ed25519 keys are supported`,
    { path: file },
  )
}

/** The key hint in a bundle: SHA-256 of the public key's DER (SPKI), as cosign computes it. */
export function keyHint(publicKey: crypto.KeyObject): string {
  return sha256Hex(publicKey.export({ type: 'spki', format: 'der' }))
}
