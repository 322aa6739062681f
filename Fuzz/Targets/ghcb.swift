import GuestABI
import GuestPhysical

/// The GHCB page handler on pages built from the input: exit code, valid bits, usage,
/// scratch, the VMMCALL registers and a PSC descriptor. The oracle restates KVM's checks
/// (sev.c sev_es_validate_vmgexit, setup_vmgexit_scratch) and, for what passes them, the PSC
/// and hypercall oracles; and nothing outside the bytes KVM writes back may change.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGHCB(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var input = FuzzInput(data, size)
    let ghcbGPA: UInt64 = 0x7F_F000
    let strict = input.bool()
    let failAt = Int(input.u8() % 8)
    let ramEnd = UInt64(input.u8()) << 20
    var page = GHCBPage()
    let exitCode: UInt64 =
        switch input.u8() % 4 {
        case 0: 0x81 // VMMCALL
        case 1: input.u64()
        default: 0x8000_0010 // SNP Page State Change
        }
    page.set(.swExitCode, exitCode)
    page.set(.swExitInfo1, 0)
    page.set(.swExitInfo2, 0)
    let scratchChoice = input.u8()
    let scratch: UInt64 =
        switch scratchChoice % 8 {
        case 0: input.u64()
        case 1: ghcbGPA + UInt64(input.u16() & 0xFFF)
        default: ghcbGPA + 0x800
        }
    page.set(.swScratch, scratch)
    page.set(.rax, input.bool() ? 12 : UInt64(input.u8()))
    page.set(.rbx, input.u64())
    page.set(.rcx, input.bool() ? UInt64(input.u16()) : input.u64())
    page.set(.rdx, UInt64(input.u8()))
    page.set(.cpl, UInt64(input.u8() % 4 == 3 ? 3 : 0))
    // One byte of "invalid" flags, one bit per field; a usage word now and then.
    let invalid = input.u16()
    for (bit, field) in [GHCBField.swExitCode, .swExitInfo1, .swExitInfo2, .swScratch, .rax, .cpl, .rbx, .rcx, .rdx].enumerated()
    where invalid & (1 << bit) != 0 && invalid & 0x8000 != 0 {
        page.setValid(field, false)
    }
    if input.u8() == 0xFF { page.usage = input.u32() }
    let offset = Int(scratch & 0xFFF)
    if scratch & ~0xFFF == ghcbGPA, offset >= 0x800, offset + 8 <= 0xFF0 {
        page.fillDescriptor(at: offset, from: &input)
    }
    page.markClean()
    let before = page
    var requests: [ConversionRequest] = []
    let disposition = GHCBExitHandler.handle(&page, ghcbGPA: ghcbGPA, policy: strict ? .strict : .kvm) { request in
        requests.append(request)
        if requests.count == failAt { return .hostFailure }
        // PSC runs succeed unless failed on purpose (PSCOracle counts on it); a hypercall
        // also meets the range check.
        guard exitCode == 0x81 else { return .converted }
        return request.isConvertible(in: GPARange(start: 0, end: ramEnd)) ? .converted : .outsideGuestMemory
    }

    // Only what KVM writes back may change: the valid bitmap, RAX/RBX/RCX/RDX, SW_EXITINFO1/2
    // and the descriptor's cur_entry/cur_page fields.
    let written: [Range<Int>] = [0x3F0..<0x400, 0x1F8..<0x200, 0x308..<0x320, 0x398..<0x3A8, 0x800..<0xFF0]
    for quadword in stride(from: 0, to: 0x1000, by: 8) where before.load(UInt64.self, at: quadword) != page.load(UInt64.self, at: quadword) {
        expect(written.contains { $0.contains(quadword) }, "the handler changed the quadword at \(hex(UInt64(quadword)))")
    }

    // The malformed-input answers, in KVM's order (GHCB spec: SW_EXITINFO1 = 2, code in EXITINFO2).
    let expectedError: UInt64? = {
        if before.usage != 0 { return 2 } // GHCB_ERR_INVALID_USAGE
        if !before.isValid(.swExitCode) || !before.isValid(.swExitInfo1) || !before.isValid(.swExitInfo2) { return 4 } // MISSING_INPUT
        switch exitCode {
        case 0x8000_0010:
            if !before.isValid(.swScratch) { return 4 }
            if scratch == 0 || scratch & ~0xFFF != ghcbGPA || offset < 0x800 || offset + 8 > 0xFF0 { return 3 } // INVALID_SCRATCH_AREA
        case 0x81:
            if !before.isValid(.rax) || !before.isValid(.cpl) { return 4 }
        default: break
        }
        return nil
    }()
    switch disposition {
    case .malformed(let error):
        expect(expectedError == error.rawValue, "malformed \(error) but the cause is \(String(describing: expectedError))")
        expect(page[.swExitInfo1] == 2 && page[.swExitInfo2] == error.rawValue && requests.isEmpty, "malformed answer")
    case .pageStateChange(let result):
        expect(expectedError == nil && exitCode == 0x8000_0010, "served a PSC whose GHCB is malformed (\(String(describing: expectedError)))")
        expect(page[.swExitInfo1] == 0, "PSC SW_EXITINFO1")
        PSCOracle.check(
            before: before, after: page, offset: offset, strict: strict, requests: requests,
            failAt: failAt, result: result, exitInfo2: page[.swExitInfo2])
    case .hypercall(let rax):
        expect(expectedError == nil && exitCode == 0x81, "served a VMMCALL whose GHCB is malformed")
        let value = { (field: GHCBField) in before.isValid(field) ? before[field] : 0 }
        var answer = HypercallOracle.expected(
            nr: before[.rax], gpa: value(.rbx), npages: value(.rcx), attributes: value(.rdx),
            longMode: true, cpl: UInt8(truncatingIfNeeded: before[.cpl]), ramEnd: ramEnd)
        switch answer {
        case .converted, .error(14): expect(requests.count == 1, "a decoded hypercall goes to the host once")
        default: expect(requests.isEmpty, "a refused hypercall reached the host")
        }
        // A request that reached the host and failed there is refused with -KVM_EINVAL.
        if failAt == 1, !requests.isEmpty { answer = .error(22) }
        expect(rax == HypercallOracle.rax(answer, longMode: true) && page[.rax] == rax, "VMMCALL rax \(hex(rax)), want \(answer)")
        expect(requests.count <= 1, "one hypercall, one request")
    case .unhandled(let code):
        expect(expectedError == nil && code == exitCode && code != 0x81 && code != 0x8000_0010, "unhandled \(hex(code))")
        expect(!page.hasChanges, "an unhandled exit changed the page")
    }
    return 0
}
