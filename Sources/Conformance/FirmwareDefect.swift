import GuestPhysical

/// A deliberate defect made in a copy of Debian's OVMF.fd for the `ovmf-*` negative twins: the
/// firmware's own validation broken, so that the platform (not the firmware) must catch the
/// memory it then uses unvalidated. Each finds its one site by its bytes and refuses an image
/// where there is not exactly one, rather than patch something else.
public enum FirmwareDefect: String, Sendable, Equatable, CustomStringConvertible {
    /// SEC's one PVALIDATE (edk2 BaseMemEncryptSevLib AsmPvalidate, `F2 0F 01 FF`) made
    /// `xor eax, eax; nop; nop`: it validates nothing and answers success. Four NOPs alone
    /// would leave the page's address in RAX, which PvalidateRange takes for an error code and
    /// answers by asking to terminate: the firmware would catch itself, and the platform
    /// would have nothing left to catch.
    case pvalidateSkipped = "pvalidate-skipped"
    /// SEC's one call of the shared TdCall helper with leaf 6, TDG.MEM.PAGE.ACCEPT (edk2
    /// TdxLib AcceptPages.c), made five NOPs. The helper's TDCALL serves every leaf
    /// (TDG.VP.INFO too), so it stays; at this call RAX is already 0, which the caller reads as
    /// TDX_SUCCESS: every accept answers success and accepts nothing.
    case acceptSkipped = "accept-skipped"

    /// PVALIDATE (AMD APM vol. 3).
    static let pvalidate: [UInt8] = [0xF2, 0x0F, 0x01, 0xFF]
    /// TDCALL (Intel TDX module ABI).
    static let tdcall: [UInt8] = [0x66, 0x0F, 0x01, 0xCC]
    /// `mov ecx, 6`: the TdCall helper's leaf argument, TDCALL_TDACCEPTPAGE (edk2 Tdx.h).
    static let acceptLeafArgument: [UInt8] = [0xB9, 0x06, 0x00, 0x00, 0x00]
    static let callRel32: UInt8 = 0xE8
    static let nop: UInt8 = 0x90
    /// `xor eax, eax`.
    static let zeroEAX: [UInt8] = [0x31, 0xC0]
    /// How far after the leaf argument the call may be, and how far into the helper its TDCALL.
    static let callWindow = 16, helperWindow = 0x40

    public var description: String {
        switch self {
        case .pvalidateSkipped: "its one PVALIDATE made `xor eax, eax; nop; nop` (validates nothing, answers success)"
        case .acceptSkipped: "its one TdCall(TDG.MEM.PAGE.ACCEPT) call made five NOPs (accepts nothing, answers success)"
        }
    }

    /// Makes the defect in a firmware volume's bytes (mapped to end at 4 GiB); returns the GPA
    /// of the site it changed.
    @discardableResult
    public func make(in bytes: inout [UInt8]) throws(DefectError) -> UInt64 {
        let base = (1 << 32) - UInt64(bytes.count)
        switch self {
        case .pvalidateSkipped:
            let sites = Self.offsets(of: Self.pvalidate, in: bytes)
            guard sites.count == 1, let site = sites.first else { throw DefectError(description: "\(sites.count) PVALIDATEs in the image, not one") }
            bytes.replaceSubrange(site..<site + 4, with: Self.zeroEAX + [Self.nop, Self.nop])
            return base + UInt64(site)
        case .acceptSkipped:
            let calls = Self.offsets(of: Self.acceptLeafArgument, in: bytes).compactMap { argument -> Int? in
                (argument + 5..<min(argument + Self.callWindow, bytes.count - 5)).first { at in
                    guard bytes[at] == Self.callRel32 else { return false }
                    let displacement = Int(
                        Int32(bitPattern: UInt32(bytes[at + 1]) | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3]) << 16 | UInt32(bytes[at + 4]) << 24))
                    let target = at + 5 + displacement
                    guard target >= 0, target + Self.helperWindow <= bytes.count else { return false }
                    return !Self.offsets(of: Self.tdcall, in: Array(bytes[target..<target + Self.helperWindow])).isEmpty
                }
            }
            guard calls.count == 1, let call = calls.first else {
                throw DefectError(description: "\(calls.count) TdCall(TDG.MEM.PAGE.ACCEPT) calls in the image, not one")
            }
            bytes.replaceSubrange(call..<call + 5, with: [UInt8](repeating: Self.nop, count: 5))
            return base + UInt64(call)
        }
    }

    static func offsets(of pattern: [UInt8], in bytes: [UInt8]) -> [Int] {
        guard bytes.count >= pattern.count else { return [] }
        return (0...(bytes.count - pattern.count)).filter { at in bytes[at] == pattern[0] && Array(bytes[at..<at + pattern.count]) == pattern }
    }

    public struct DefectError: Error, CustomStringConvertible { public let description: String }
}
