import AWSSigning

/// Fixed credentials for tests: `example` is the SigV4 documentation key, `test` a short one.
public enum TestKeys {
    public static let example = AWSCredentialIdentity(
        accessKeyID: "AKIDEXAMPLE",
        secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    )
    public static let test = AWSCredentialIdentity(accessKeyID: "AKIDTEST", secretAccessKey: "secret")
}
