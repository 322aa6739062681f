/// Serves one VMGEXIT on a GHCB copy end to end: validate, convert, answer.
public enum GHCBExitHandler {
    /// How the exit ended. For `.unhandled` the page is untouched and the runner
    /// answers itself (with `complete` below, e.g. INVALID_EVENT).
    public enum Disposition: Sendable, Hashable {
        case malformed(GHCBMalformedInput)
        case pageStateChange(PageStateChangeResult)
        case hypercall(rax: UInt64)
        case unhandled(exitCode: UInt64)
    }

    /// Validates the page, runs a PSC or a MAP_GPA_RANGE hypercall through `host`,
    /// and writes the answer into `page` as KVM would leave it.
    ///
    /// SEV-ES/SNP guests' hypercalls are taken as 64-bit (KVM treats protected guest
    /// state as long mode; an inference from x86.c, not verified on hardware).
    public static func handle(
        _ page: inout GHCBPage, ghcbGPA: UInt64, policy: PageStateChangePolicy = .strict,
        host: (ConversionRequest) -> ConversionOutcome
    ) -> Disposition {
        let request: GHCBExitRequest
        do {
            request = try GHCBExitDecoder.decode(page, ghcbGPA: ghcbGPA)
        } catch {
            complete(&page, exitInfo1: GHCBMalformedInput.exitInfo1, exitInfo2: error.rawValue)
            return .malformed(error)
        }
        switch request {
        case let .pageStateChange(offset):
            let result = PageStateChangeProcessor(policy: policy).process(&page, descriptorOffset: offset, host: host)
            complete(&page, exitInfo1: 0, exitInfo2: result.exitInfo2)
            return .pageStateChange(result)
        case let .hypercall(nr, a0, a1, a2, _, cpl):
            let rax: UInt64
            do {
                let conversion = try MapGPARange.decode(nr: nr, a0: a0, a1: a1, a2: a2, longMode: true, cpl: cpl)
                rax = MapGPARange.returnValue(for: host(conversion), longMode: true)
            } catch {
                rax = error.returnValue(longMode: true)
            }
            complete(&page, exitInfo1: 0, exitInfo2: 0, rax: rax)
            return .hypercall(rax: rax)
        case let .unhandled(exitCode):
            return .unhandled(exitCode: exitCode)
        }
    }

    /// Leaves the page as KVM does on resuming the guest: the valid bitmap cleared,
    /// RAX/RBX/RCX/RDX written back (each the guest's value if it was marked valid,
    /// else 0, or the value given here) and marked valid, then SW_EXITINFO1/2 set and
    /// marked valid (sev.c `sev_es_sync_from_ghcb` / `sev_es_sync_to_ghcb`).
    public static func complete(
        _ page: inout GHCBPage, exitInfo1: UInt64, exitInfo2: UInt64,
        rax: UInt64? = nil, rbx: UInt64? = nil, rcx: UInt64? = nil, rdx: UInt64? = nil
    ) {
        func echoed(_ field: GHCBField) -> UInt64 { page.isValid(field) ? page[field] : 0 }
        let values = (
            rax: rax ?? echoed(.rax), rbx: rbx ?? echoed(.rbx), rcx: rcx ?? echoed(.rcx), rdx: rdx ?? echoed(.rdx)
        )
        page.clearValidBitmap()
        page.set(.rax, values.rax)
        page.set(.rbx, values.rbx)
        page.set(.rcx, values.rcx)
        page.set(.rdx, values.rdx)
        page.set(.swExitInfo1, exitInfo1)
        page.set(.swExitInfo2, exitInfo2)
    }
}
