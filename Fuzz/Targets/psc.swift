import GuestABI
import GuestPhysical

/// The PSC processor on descriptors built from the input: an offset in the shared buffer,
/// the header, up to 256 entries, the policy and which host request fails. PSCOracle says
/// what the GHCB spec and KVM make of the same bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPSC(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var input = FuzzInput(data, size)
    let strict = input.bool()
    let failAt = Int(input.u8() % 8) // 0: the host never fails
    // Mostly the usual 0x800; otherwise anywhere that leaves room for the header.
    let offset = input.bool() ? 0x800 : 0x800 + Int(input.u16() % UInt16(0xFF0 - 0x800 - 8 + 1)) & ~7
    var page = GHCBPage()
    page.fillDescriptor(at: offset, from: &input)
    page.markClean()
    let before = page
    var requests: [ConversionRequest] = []
    let result = PageStateChangeProcessor(policy: strict ? .strict : .kvm).process(&page, descriptorOffset: offset) { request in
        requests.append(request)
        return requests.count == failAt ? .hostFailure : .converted
    }
    PSCOracle.check(
        before: before, after: page, offset: offset, strict: strict, requests: requests,
        failAt: failAt, result: result, exitInfo2: result.exitInfo2)
    return 0
}
