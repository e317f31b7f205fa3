// Certificates for a throwaway control plane: one CA signs the API server's serving
// certificate and a client certificate per component. ECDSA P-256 keeps generation
// fast (a whole set takes milliseconds, where RSA 2048 takes seconds).
import "reflect-metadata"; // @peculiar/x509 resolves its algorithms through tsyringe, which needs it
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

// @peculiar/x509 types its provider with the DOM's Crypto; Node's webcrypto is that at run time.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const signingAlgorithm = { name: "ECDSA", hash: "SHA-256" } as const;
const keyAlgorithm = { name: "ECDSA", namedCurve: "P-256" } as const;
// Long enough for any test run or demo session, short enough not to be mistaken for real PKI.
const certificateLifetimeMs = 7 * 24 * 60 * 60 * 1000;

export interface PemKeyPair {
  certificatePem: string;
  privateKeyPem: string;
}

export interface CertificateAuthority extends PemKeyPair {
  keys: CryptoKeyPair;
  certificate: x509.X509Certificate;
}

export interface LeafOptions {
  /** The subject's common name; Kubernetes reads it as the user name. */
  commonName: string;
  /** Organizations; Kubernetes reads them as groups (e.g. system:masters). */
  organizations?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
  usage: "server" | "client" | "server-and-client";
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(keyAlgorithm, true, ["sign", "verify"])) as CryptoKeyPair;
}

export async function privateKeyToPem(privateKey: CryptoKey): Promise<string> {
  const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", privateKey);
  return x509.PemConverter.encode(pkcs8, "PRIVATE KEY");
}

export async function publicKeyToPem(publicKey: CryptoKey): Promise<string> {
  const spki = await webcrypto.subtle.exportKey("spki", publicKey);
  return x509.PemConverter.encode(spki, "PUBLIC KEY");
}

function randomSerialNumber(): string {
  // Positive 16-byte serial: clear the top bit so DER does not read it as negative.
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return Buffer.from(bytes).toString("hex");
}

function distinguishedName(commonName: string, organizations: string[] = []): string {
  const escapeValue = (value: string) => value.replace(/([,+"\\<>;=])/g, "\\$1");
  return [`CN=${escapeValue(commonName)}`, ...organizations.map((org) => `O=${escapeValue(org)}`)].join(", ");
}

function validity(): { notBefore: Date; notAfter: Date } {
  // Backdated a minute so that a slightly slow clock elsewhere does not reject it.
  const now = Date.now();
  return { notBefore: new Date(now - 60_000), notAfter: new Date(now + certificateLifetimeMs) };
}

export async function createCertificateAuthority(commonName: string): Promise<CertificateAuthority> {
  const keys = await generateKeys();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    name: distinguishedName(commonName),
    ...validity(),
    signingAlgorithm,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    keys,
    certificate,
    certificatePem: certificate.toString("pem"),
    privateKeyPem: await privateKeyToPem(keys.privateKey),
  };
}

export async function issueCertificate(
  authority: CertificateAuthority,
  options: LeafOptions,
): Promise<PemKeyPair> {
  if (options.commonName.length === 0) throw new Error("issueCertificate: commonName must not be empty");
  const keys = await generateKeys();
  const extendedUsages = {
    server: [x509.ExtendedKeyUsage.serverAuth],
    client: [x509.ExtendedKeyUsage.clientAuth],
    "server-and-client": [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth],
  }[options.usage];
  const alternativeNames = [
    ...(options.dnsNames ?? []).map((value) => ({ type: "dns" as const, value })),
    ...(options.ipAddresses ?? []).map((value) => ({ type: "ip" as const, value })),
  ];
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: distinguishedName(options.commonName, options.organizations),
    issuer: authority.certificate.subject,
    ...validity(),
    signingAlgorithm,
    publicKey: keys.publicKey,
    signingKey: authority.keys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension(extendedUsages, false),
      await x509.AuthorityKeyIdentifierExtension.create(authority.keys.publicKey),
      ...(alternativeNames.length > 0
        ? [new x509.SubjectAlternativeNameExtension(alternativeNames, false)]
        : []),
    ],
  });
  return {
    certificatePem: certificate.toString("pem"),
    privateKeyPem: await privateKeyToPem(keys.privateKey),
  };
}

/** A key pair for signing service-account tokens (kube-apiserver and kube-controller-manager share it). */
export async function createSigningKeyPair(): Promise<{ privateKeyPem: string; publicKeyPem: string }> {
  const keys = await generateKeys();
  return {
    privateKeyPem: await privateKeyToPem(keys.privateKey),
    publicKeyPem: await publicKeyToPem(keys.publicKey),
  };
}
