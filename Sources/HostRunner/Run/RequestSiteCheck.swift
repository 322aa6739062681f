import Payload

/// What the runner does when an armed request site's breakpoint fires: decided from the bytes
/// the guest would execute there now, not from the image it loaded. A guest may rewrite its
/// own code; the CPU runs what is in memory, so the runner serves a request only where the
/// instruction at RIP is one.
enum SiteAction: Equatable {
    /// The bytes at RIP are a request the run serves: serve it (the armed instruction, or
    /// another request of the run's platform the guest wrote there).
    case serve(RequestInstruction)
    /// The bytes at RIP are not a request the run serves: the guest's own instruction runs,
    /// with the site's breakpoint off for exactly that instruction.
    case execute
}

enum RequestSiteCheck {
    /// The action at a site armed for `armed`, where `bytes` are what an instruction fetch at
    /// RIP reads now (up to `RequestInstruction.longest`, fewer where a byte is not mapped),
    /// in a run of `platform` (nil: no confidential platform).
    ///
    /// The bytes must begin with one of the exact encodings (`RequestInstruction(bytes:)`):
    /// a prefix more or less is another instruction. One of another platform is executed as
    /// the CPU would (a TDCALL on AMD, a PVALIDATE off SNP: #UD), never served; without a
    /// platform any request is handed on, so the runner names the platform it needs, as it
    /// does for an unchanged site.
    static func action(armed: RequestInstruction, bytes: [UInt8], platform: ConversionPlatform?) -> SiteAction {
        // SAFETY: the buffer is the array's own storage, read only inside the closure.
        guard let found = bytes.withUnsafeBytes({ RequestInstruction(bytes: $0) }) else { return .execute }
        if found == armed || platform == nil || found.platform == platform { return .serve(found) }
        return .execute
    }
}
