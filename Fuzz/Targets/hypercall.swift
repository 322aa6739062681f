import GuestABI
import GuestPhysical

/// KVM_HC_MAP_GPA_RANGE from the input's registers, through the decoder and the conversion
/// service's range check (ConversionRequest.isConvertible), against HypercallOracle: every
/// error's code matches its cause (EPERM at CPL 3, ENOSYS, EINVAL for alignment, zero, frame
/// wrap and attributes, EFAULT outside RAM) and an accepted request converts exactly the
/// requested range.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHypercall(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var input = FuzzInput(data, size)
    let flags = input.u8()
    let longMode = flags & 1 == 0
    let cpl: UInt8 = flags & 6 == 6 ? 3 : 0
    let nr: UInt64 = flags & 8 == 0 ? 12 : input.u64()
    let gpa = input.u64(), npages = input.u64(), attributes = input.u64()
    // Guest RAM as the runner makes it: [0, memory), a multiple of 2 MiB up to 3 GiB.
    let ramEnd = UInt64(input.u16() % 1537) << 21
    let ram = GPARange(start: 0, end: ramEnd)

    var converted: ConversionRequest?
    let rax: UInt64
    do {
        let request = try MapGPARange.decode(nr: nr, a0: gpa, a1: npages, a2: attributes, longMode: longMode, cpl: cpl)
        if request.isConvertible(in: ram) {
            converted = request
            rax = MapGPARange.returnValue(for: .converted, longMode: longMode)
        } else {
            rax = MapGPARange.returnValue(for: .outsideGuestMemory, longMode: longMode)
        }
    } catch {
        rax = error.returnValue(longMode: longMode)
    }
    let answer = HypercallOracle.expected(nr: nr, gpa: gpa, npages: npages, attributes: attributes, longMode: longMode, cpl: cpl, ramEnd: ramEnd)
    expect(
        rax == HypercallOracle.rax(answer, longMode: longMode),
        "nr \(hex(nr)) gpa \(hex(gpa)) npages \(hex(npages)) attrs \(hex(attributes)) long \(longMode) cpl \(cpl) ram \(hex(ramEnd)): rax \(hex(rax)), want \(answer)"
    )
    switch answer {
    case .converted(let start, let upperBound, let toPrivate):
        expect(
            converted?.range.start == start && converted?.range.upperBound == upperBound,
            "converted \(String(describing: converted)), requested [\(hex(start)), \(upperBound))")
        expect(converted?.direction == (toPrivate ? .toPrivate : .toShared), "direction")
    case .error:
        expect(converted == nil, "an error, yet \(String(describing: converted)) would be converted")
    }
    return 0
}
