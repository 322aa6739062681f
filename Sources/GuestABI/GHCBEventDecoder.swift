/// Decodes a GHCB page into a `GHCBEvent` the way KVM's `sev_handle_vmgexit`
/// path does (arch/x86/kvm/svm/sev.c), in its order:
/// 1. `ghcb_usage` ≠ 0 → INVALID_USAGE; SW_EXITCODE, SW_EXITINFO1 or SW_EXITINFO2
///    not marked valid → MISSING_INPUT (both through `GHCBExitDecoder`, which also
///    decodes PSC and VMMCALL).
/// 2. The event's own inputs (`sev_es_validate_vmgexit`):
///    - IOIO: STR needs SW_SCRATCH, a non-string OUT needs RAX;
///    - MSR: RCX always, RAX and RDX for a write;
///    - CPUID: RAX and RCX, and XCR0 when RAX is exactly 0xD;
///    - MMIO read/write: SW_SCRATCH;
///    missing → MISSING_INPUT. An exit code KVM does not know → INVALID_EVENT.
/// 3. Scratch area (`setup_vmgexit_scratch`, see `GHCBScratchArea.locate`) →
///    INVALID_SCRATCH_AREA; for string IO first count ≤ INT_MAX and
///    count × size ≤ INT_MAX, else KVM_RUN fails.
///
/// One check is Enlighten's, not KVM's: an IOIO size field (bits 6:4) that is not
/// exactly 1, 2 or 4 answers INVALID_INPUT. KVM passes such a size on to its port
/// emulation unchecked (svm.c `io_interception`), where no device answers it.
public enum GHCBEventDecoder {
    public static let intMax: UInt64 = UInt64(Int32.max)

    public static func decode(_ page: GHCBPage, ghcbGPA: UInt64) throws(GHCBEventRefusal) -> GHCBEvent {
        let request: GHCBExitRequest
        do {
            request = try GHCBExitDecoder.decode(page, ghcbGPA: ghcbGPA)
        } catch {
            throw .malformed(error)
        }
        guard case let .unhandled(exitCode) = request else { return .conversion(request) }
        return try decodeEvent(exitCode, page, ghcbGPA: ghcbGPA)
    }

    private static func decodeEvent(_ exitCode: UInt64, _ page: GHCBPage, ghcbGPA: UInt64) throws(GHCBEventRefusal) -> GHCBEvent {
        func require(_ fields: GHCBField...) throws(GHCBEventRefusal) {
            for field in fields where !page.isValid(field) { throw .malformed(.missingInput) }
        }
        func valid(_ field: GHCBField) -> UInt64? { page.isValid(field) ? page[field] : nil }
        func scratch(length: UInt64) throws(GHCBEventRefusal) -> GHCBScratchArea {
            do {
                return try GHCBScratchArea.locate(scratch: page[.swScratch], length: length, ghcbGPA: ghcbGPA)
            } catch {
                throw .malformed(error)
            }
        }
        let info1 = page[.swExitInfo1]
        let info2 = page[.swExitInfo2]

        switch exitCode {
        case GHCBExitCode.ioio:
            let io = GHCBIOIOInfo(rawValue: info1)
            if io.isString {
                try require(.swScratch)
            } else if !io.isIn {
                try require(.rax)
            }
            guard let size = io.operandSize else { throw .malformed(.invalidInput) }
            guard io.isString else {
                let rax = valid(.rax) ?? 0
                return io.isIn ? .portIn(port: io.port, size: size, rax: rax) : .portOut(port: io.port, size: size, value: rax)
            }
            let count = info2
            guard count <= intMax, count * UInt64(size) <= intMax else {
                throw .vcpuStops(.stringCountTooLarge(count: count, size: size))
            }
            let area = try scratch(length: count * UInt64(size))
            return io.isIn
                ? .stringPortIn(port: io.port, size: size, count: count, scratch: area)
                : .stringPortOut(port: io.port, size: size, count: count, scratch: area)

        case GHCBExitCode.msr:
            try require(.rcx)
            let index = UInt32(truncatingIfNeeded: page[.rcx])
            guard info1 != 0 else { return .msrRead(index: index) }
            try require(.rax, .rdx)
            let value = (page[.rax] & 0xFFFF_FFFF) | (page[.rdx] << 32)
            return .msrWrite(index: index, value: value)

        case GHCBExitCode.cpuid:
            try require(.rax, .rcx)
            if page[.rax] == 0xD { try require(.xcr0) }
            return .cpuid(
                leaf: UInt32(truncatingIfNeeded: page[.rax]), subleaf: UInt32(truncatingIfNeeded: page[.rcx]),
                xcr0: valid(.xcr0), xss: valid(.xss))

        case GHCBExitCode.mmioRead, GHCBExitCode.mmioWrite:
            try require(.swScratch)
            let area = try scratch(length: info2)
            return exitCode == GHCBExitCode.mmioRead
                ? .mmioRead(gpa: info1, length: info2, scratch: area)
                : .mmioWrite(gpa: info1, length: info2, scratch: area)

        case GHCBExitCode.hypervisorFeatures:
            return .hypervisorFeatures

        case GHCBExitCode.terminationRequest:
            return .terminate(reasonSet: UInt8(info1 & 0xF), reasonCode: UInt8((info1 >> 4) & 0xFF))

        case GHCBExitCode.unsupportedEvent:
            throw .vcpuStops(.unsupportedEvent(exitInfo1: info1, exitInfo2: info2))

        default:
            guard GHCBExitCode.acceptedButNotDecoded.contains(exitCode) else { throw .malformed(.invalidEvent) }
            return .notDecoded(exitCode: exitCode)
        }
    }
}
