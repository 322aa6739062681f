import GuestPhysical

/// Serves one TDG.VP.VMCALL<MapGPA> the way KVM's `tdx_map_gpa`,
/// `__tdx_map_gpa` and `tdx_complete_vmcall_map_gpa` (arch/x86/kvm/vmx/tdx.c) do:
/// validate once, then convert in chunks of at most 2 MiB, one chunk per `step`.
public struct TDXMapGPAProcessor: Sendable, Hashable {
    /// `TDX_MAP_GPA_MAX_LEN`: KVM stops between chunks to let interrupts in.
    public static let chunkSize: UInt64 = 2 << 20

    public let width: TDXGuestPhysicalAddressWidth
    /// The next GPA to convert, shared bit included, as the guest wrote it.
    public private(set) var next: UInt64
    /// One past the last byte, shared bit included.
    public let end: UInt64

    /// Validates in KVM's order, reporting the error completion (R11 = the guest's
    /// GPA) on failure:
    /// 1. `gpa + size` wraps or `size == 0`, start or last byte beyond GPAW, or the
    ///    two differ in the shared bit → INVALID_OPERAND.
    /// 2. `gpa` or `size` not 4 KiB aligned → ALIGN_ERROR.
    public init(gpa: UInt64, size: UInt64, width: TDXGuestPhysicalAddressWidth) throws(TDXMapGPAError) {
        let (sum, overflow) = gpa.addingReportingOverflow(size)
        guard !overflow, sum > gpa,
            width.isLegal(gpa), width.isLegal(sum - 1),
            width.isShared(gpa) == width.isShared(sum - 1)
        else { throw TDXMapGPAError(completion: TDVMCallCompletion(status: TDVMCallStatus.invalidOperand, r11: gpa)) }
        guard gpa & (GPARange.frameSize - 1) == 0, size & (GPARange.frameSize - 1) == 0 else {
            throw TDXMapGPAError(completion: TDVMCallCompletion(status: TDVMCallStatus.alignError, r11: gpa))
        }
        self.width = width
        self.next = gpa
        self.end = sum
    }

    /// The conversion the next `step` will ask the host for: the shared bit
    /// stripped from the address and the direction taken from it.
    public var currentChunk: ConversionRequest {
        let length = min(end - next, Self.chunkSize)
        let direction: ConversionDirection = width.isShared(next) ? .toShared : .toPrivate
        // Validation guaranteed an aligned, non-empty range below 2^52.
        let range = GPARange(
            firstFrame: (next & ~width.sharedBit) >> GPARange.frameShift,
            pageCount: length >> GPARange.frameShift)
        return ConversionRequest(range: range, direction: direction, pageSize: .size4K, origin: .tdxMapGPA)
    }

    /// Converts one chunk. A failure answers INVALID_OPERAND with R11 = that chunk's
    /// GPA. After a success the call is finished (SUCCESS) or, if `injectRetry` is
    /// set, where KVM would find an event pending, it ends with RETRY and
    /// R11 = the next GPA for the guest to resume from; otherwise it continues.
    public mutating func step(injectRetry: Bool = false, host: (ConversionRequest) -> ConversionOutcome) -> Step {
        let outcome = host(currentChunk)
        guard outcome.succeeded else {
            return .finished(TDVMCallCompletion(status: TDVMCallStatus.invalidOperand, r11: next))
        }
        let remaining = end - next
        if remaining <= Self.chunkSize {
            next = end
            return .finished(TDVMCallCompletion(status: TDVMCallStatus.success))
        }
        next += Self.chunkSize
        if injectRetry {
            return .finished(TDVMCallCompletion(status: TDVMCallStatus.retry, r11: next))
        }
        return .continuing
    }

    /// Runs chunks until the call finishes; `retryAfterChunk(n)` is asked after the
    /// n-th successful chunk (from 1) whether to stop there with RETRY.
    public mutating func run(
        retryAfterChunk: (Int) -> Bool = { _ in false },
        host: (ConversionRequest) -> ConversionOutcome
    ) -> TDVMCallCompletion {
        var chunk = 1
        while true {
            if case let .finished(completion) = step(injectRetry: retryAfterChunk(chunk), host: host) {
                return completion
            }
            chunk += 1
        }
    }

    public enum Step: Sendable, Hashable {
        case continuing
        case finished(TDVMCallCompletion)
    }
}

/// A MapGPA request refused before any conversion, with the completion to return.
public struct TDXMapGPAError: Error, Sendable, Hashable {
    public let completion: TDVMCallCompletion
}
