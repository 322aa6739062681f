import GuestPhysical

/// PVALIDATE's operands as the instruction reads them from the registers, or the #GP(0) it
/// raises instead. Pure: the runner walks the address and applies the RMP rules
/// (`PageStateMap.pvalidate`) only for `.operands`.
///
/// Each rule and its public source (docs/interfaces.md "PVALIDATE operands" lists them with
/// what stays ambiguous):
/// - The address is rAX at the effective address size: RAX in 64-bit mode, EAX otherwise.
///   LLVM lib/Target/X86/X86InstrSNP.td defines PVALIDATE64 (`Uses = [RAX, …]`, In64BitMode)
///   and PVALIDATE32 (`Uses = [EAX, ECX, EDX]`, Not64BitMode); compatibility mode makes
///   32-bit effective addresses, zero-extended (AMD APM vol. 1 §2.2.3 "Effective Addresses").
/// - In 64-bit mode a non-canonical address is #GP(0): "If a virtual-memory reference is not
///   in canonical form, the implementation causes a general-protection exception or stack
///   fault" (AMD APM vol. 1 §2.2.2 "64-Bit Canonical Addresses"; rAX is no stack reference).
///   Canonical is bits 63 down to the top implemented bit all equal: 48 bits with 4-level
///   paging, 57 with CR4.LA57.
/// - The page size is ECX and validate EDX, 32-bit registers: RCX/RDX bits 63:32 are not
///   read. The public callers depend on it — edk2 MdePkg BaseLib AsmPvalidate takes
///   `UINT32 RmpPageSize, UINT32 Validate` in RCX/RDX, whose upper halves the Microsoft x64
///   convention leaves undefined for 32-bit arguments; usbarmory/tamago loads the size with
///   MOVL; Linux asm/sev.h pvalidate() passes two `bool`s; LLVM's PVALIDATE32 reads ECX/EDX.
enum PValidateOperands: Equatable, Sendable {
    /// GVA, ECX (0 = 4 KiB, 1 = 2 MiB) and EDX (1 validate, 0 rescind), as read.
    case operands(gva: UInt64, pageSize: UInt32, validate: UInt32)
    /// #GP(0) before anything is translated or changed, and why.
    case generalProtection(String)

    static let generalProtectionVector: UInt8 = 13
    /// CR4.LA57 (bit 12): 5-level paging, 57-bit linear addresses.
    static let cr4LA57: UInt64 = 1 << 12

    /// The operands of a PVALIDATE executed with these registers; `longMode64` when the CPU
    /// is in 64-bit mode (EFER.LMA and CS.L), `fiveLevelPaging` when CR4.LA57 is set.
    static func decode(rax: UInt64, rcx: UInt64, rdx: UInt64, longMode64: Bool, fiveLevelPaging: Bool) -> PValidateOperands {
        let pageSize = UInt32(truncatingIfNeeded: rcx), validate = UInt32(truncatingIfNeeded: rdx)
        guard longMode64 else { return .operands(gva: rax & 0xFFFF_FFFF, pageSize: pageSize, validate: validate) }
        let bits = fiveLevelPaging ? 57 : 48
        guard isCanonical(rax, linearAddressBits: bits) else {
            return .generalProtection("RAX \(hex(rax)) is not canonical (bits 63:\(bits - 1) differ)")
        }
        return .operands(gva: rax, pageSize: pageSize, validate: validate)
    }

    /// Bits 63 through `linearAddressBits` - 1 all zero or all one.
    static func isCanonical(_ address: UInt64, linearAddressBits: Int) -> Bool {
        let shift = UInt64(64 - linearAddressBits)
        return UInt64(bitPattern: Int64(bitPattern: address << shift) >> shift) == address
    }
}
