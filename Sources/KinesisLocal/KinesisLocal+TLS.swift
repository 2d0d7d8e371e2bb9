import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509

extension KinesisLocal.Configuration {
    /// HTTPS: the certificate chain and private key the server presents, as PEM files. A client trusts it by
    /// taking the certificate as its CA bundle (`AWS_CA_BUNDLE`, `push --ca-bundle`,
    /// `KinesisClient.Configuration.HTTP.caBundlePath`).
    public struct TLS: Sendable, Hashable {
        /// The PEM certificate chain, leaf first.
        public var certificatePath: String
        /// The PEM private key of the leaf.
        public var privateKeyPath: String

        /// Files already made (`local --tls-cert --tls-key`).
        public init(certificatePath: String, privateKeyPath: String) {
            self.certificatePath = certificatePath
            self.privateKeyPath = privateKeyPath
        }

        /// Writes a new self-signed certificate and its P-256 key into `directory` (`cert.pem`, `key.pem`, the key
        /// readable by the owner only) and returns the configuration serving them. The certificate is its own CA,
        /// valid for a year from an hour ago, for `localhost`, 127.0.0.1, ::1 and `hosts` (names or addresses).
        public static func selfSigned(in directory: String, hosts: [String] = []) throws -> TLS {
            let key = P256.Signing.PrivateKey()
            let name = try DistinguishedName {
                CommonName("KinesisLocal")
                OrganizationName("KinesisPusher")
            }
            var names: [GeneralName] = []
            for host in ["localhost", "127.0.0.1", "::1"] + hosts where !names.contains(Self.generalName(host)) {
                names.append(Self.generalName(host))
            }
            let publicKey = Certificate.PublicKey(key.publicKey)
            let now = Date()
            let certificate = try Certificate(
                version: .v3,
                serialNumber: .init(),
                publicKey: publicKey,
                notValidBefore: now - 3600,
                notValidAfter: now + 365 * 86400,
                issuer: name,
                subject: name,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(digitalSignature: true, keyCertSign: true))
                    try ExtendedKeyUsage([.serverAuth])
                    SubjectAlternativeNames(names)
                    SubjectKeyIdentifier(hash: publicKey)
                },
                issuerPrivateKey: .init(key)
            )
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let tls = TLS(certificatePath: directory + "/cert.pem", privateKeyPath: directory + "/key.pem")
            try certificate.serializeAsPEM().pemString.write(toFile: tls.certificatePath, atomically: true, encoding: .utf8)
            guard FileManager.default.createFile(atPath: tls.privateKeyPath, contents: Data(key.pemRepresentation.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw KinesisLocalError(message: "cannot write the TLS key to \(tls.privateKeyPath)")
            }
            return tls
        }

        static func generalName(_ host: String) -> GeneralName {
            var v4 = in_addr()
            if inet_pton(AF_INET, host, &v4) == 1 {
                return .ipAddress(ASN1OctetString(contentBytes: ArraySlice(withUnsafeBytes(of: &v4) { Array($0) })))
            }
            var v6 = in6_addr()
            if inet_pton(AF_INET6, host, &v6) == 1 {
                return .ipAddress(ASN1OctetString(contentBytes: ArraySlice(withUnsafeBytes(of: &v6) { Array($0) })))
            }
            return .dnsName(host)
        }

        /// The server's TLS context: the files read, a missing or unreadable one named.
        func makeContext() throws -> NIOSSLContext {
            do {
                let chain = try NIOSSLCertificate.fromPEMFile(certificatePath).map { NIOSSLCertificateSource.certificate($0) }
                let key = try NIOSSLPrivateKey(file: privateKeyPath, format: .pem)
                return try NIOSSLContext(configuration: .makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key)))
            } catch {
                throw KinesisLocalError(message: "cannot serve TLS with certificate \(certificatePath) and key \(privateKeyPath): \(error)")
            }
        }
    }
}
