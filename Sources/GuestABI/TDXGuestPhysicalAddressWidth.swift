/// A TD's guest physical address width, which fixes its shared bit.
///
/// TDG.VP.INFO reports GPAW in RCX[5:0]; the TDX module reports 52 when the TD was
/// configured with the wide GPAW and 48 otherwise (intel/tdx-module `tdg_vp_info.c`).
/// The shared bit is GPAW - 1: bit 47 or bit 51 (Linux tdx.c `TDX_SHARED_BIT_PWL_4`
/// / `_PWL_5`; td-shim `td_shared_mask`).
public enum TDXGuestPhysicalAddressWidth: UInt8, Sendable, Hashable, CaseIterable {
    case bits48 = 48
    case bits52 = 52

    public init?(bits: UInt64) {
        guard let bits = UInt8(exactly: bits), let width = Self(rawValue: bits) else { return nil }
        self = width
    }

    public var sharedBit: UInt64 { 1 << UInt64(rawValue - 1) }

    /// KVM's `kvm_vcpu_is_legal_gpa`: no bit at or above the guest MAXPHYADDR, which
    /// for a TD is its GPAW (tdx.c derives guest MAXPHYADDR from the shared bit; an
    /// inference, not verified on hardware).
    public func isLegal(_ gpa: UInt64) -> Bool { gpa >> UInt64(rawValue) == 0 }

    public func isShared(_ gpa: UInt64) -> Bool { gpa & sharedBit != 0 }
}
