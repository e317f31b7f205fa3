import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createCertificateAuthority, createSigningKeyPair, issueCertificate } from "./certificates.ts";

describe("certificates", () => {
  it("issues a server certificate that the CA verifies, with the requested names", async () => {
    const authority = await createCertificateAuthority("test-ca");
    const serving = await issueCertificate(authority, {
      commonName: "kube-apiserver",
      dnsNames: ["localhost", "kubernetes.default.svc"],
      ipAddresses: ["127.0.0.1", "10.0.0.1"],
      usage: "server",
    });
    const ca = new X509Certificate(authority.certificatePem);
    const leaf = new X509Certificate(serving.certificatePem);
    expect(ca.ca).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(leaf.checkHost("kubernetes.default.svc")).toBe("kubernetes.default.svc");
    expect(leaf.checkIP("10.0.0.1")).toBe("10.0.0.1");
    expect(leaf.checkHost("example.com")).toBeUndefined();
    expect(leaf.keyUsage).toContain("1.3.6.1.5.5.7.3.1");
    expect(serving.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it("puts user name and groups into the subject of a client certificate", async () => {
    const authority = await createCertificateAuthority("test-ca");
    const admin = await issueCertificate(authority, {
      commonName: "admin",
      organizations: ["system:masters"],
      usage: "client",
    });
    const leaf = new X509Certificate(admin.certificatePem);
    expect(leaf.subject).toBe("CN=admin\nO=system:masters");
    expect(leaf.keyUsage).toEqual(["1.3.6.1.5.5.7.3.2"]);
  });

  it("refuses a certificate without a common name", async () => {
    const authority = await createCertificateAuthority("test-ca");
    await expect(issueCertificate(authority, { commonName: "", usage: "client" })).rejects.toThrow(
      /commonName/,
    );
  });

  it("creates a PEM key pair for service-account tokens", async () => {
    const pair = await createSigningKeyPair();
    expect(pair.privateKeyPem).toMatch(/BEGIN PRIVATE KEY/);
    expect(pair.publicKeyPem).toMatch(/BEGIN PUBLIC KEY/);
  });
});
