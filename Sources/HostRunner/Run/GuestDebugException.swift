import Payload

/// The debug exceptions (#DB, vector 1) a guest causes itself, and how the runner hands them to
/// it: single-step traps (RFLAGS.TF), ICEBP (INT1, opcode F1) and its own breakpoints.
///
/// Why the runner sees them at all: its hardware breakpoints (KVM_SET_GUEST_DEBUG with
/// KVM_GUESTDBG_USE_HW_BP) make KVM intercept every #DB and report it to user space as
/// KVM_EXIT_DEBUG (Linux arch/x86/kvm/vmx/vmx.c handle_exception_nmi and svm/svm.c
/// db_interception deliver it to the guest themselves only without USE_HW_BP or SINGLESTEP).
/// One that is not an armed site's is the guest's, and user space must deliver it, with the
/// DR6 the guest's handler reads (QEMU target/i386/kvm kvm_handle_debug re-injects it the same
/// way, through KVM_SET_VCPU_EVENTS). Two more cases have no #DB for KVM to report: an
/// instruction the runner serves and skips while TF is set (KVM traps after the instructions
/// it skips itself: x86.c kvm_skip_emulated_instruction → kvm_vcpu_do_singlestep), and an
/// ICEBP that a KVM emulating every instruction fails on (its emulator has no INT1).
enum GuestDebugException {
    static let vector: UInt8 = 1
    /// RFLAGS.TF, bit 8.
    static let trapFlag: UInt64 = 1 << 8
    /// DR6 (Intel SDM vol. 3 §17.2.3; Linux asm/debugreg.h): B0–B3, a breakpoint condition
    /// met; BD (13), a debug-register access; BS (14), a single step; BT (15), a task switch.
    static let breakpointHits: UInt64 = 0xF
    static let singleStep: UInt64 = 1 << 14
    static let causes: UInt64 = 0xE00F
    /// DR6_ACTIVE_LOW (asm/debugreg.h): the bits DR6 holds at 1 when they report nothing.
    static let activeLow: UInt64 = 0xFFFF_0FF0
    /// ICEBP / INT1 (Intel SDM vol. 2 "INT n/INTO/INT3/INT1").
    static let icebpOpcode: UInt8 = 0xF1

    /// DR6 once a #DB with `payload` (its causes, active-high as in VMX's pending debug
    /// exceptions) is delivered to a guest whose DR6 was `current`: x86.c
    /// kvm_deliver_exception_payload — B0–B3 cleared ("certain debug exceptions may clear bit
    /// 0-3"), the rest never cleared, the payload's bits set, bit 12 reserved.
    static func dr6(delivering payload: UInt64, over current: UInt64) -> UInt64 {
        var dr6 = current & ~breakpointHits
        dr6 |= activeLow
        dr6 |= payload
        dr6 ^= payload & activeLow
        dr6 &= ~(1 << 12)
        return dr6
    }

    /// Whether a KVM_EXIT_DEBUG is a single-step trap alone (DR6.BS, no B0–B3 hit): what
    /// KVM_GUESTDBG_SINGLESTEP reports after the instruction it stepped (x86.c
    /// kvm_vcpu_do_singlestep: DR6_BS | DR6_ACTIVE_LOW).
    static func isSingleStep(exception: UInt32, dr6: UInt64) -> Bool {
        exception == UInt32(vector) && dr6 & singleStep != 0 && dr6 & breakpointHits == 0
    }

    /// Whose a KVM_EXIT_DEBUG is.
    enum Origin: Equatable {
        /// The runner's breakpoint at an armed request site: serve the request there.
        case site(RequestInstruction)
        /// The guest's #DB: deliver it with `payload` after moving RIP past `skip` bytes.
        case guest(payload: UInt64, skip: UInt64)
        /// Not a #DB at all (KVM reports #BP only for software breakpoints, which the runner
        /// never sets).
        case unexpected
    }

    /// Classifies a KVM_EXIT_DEBUG: `exception` and `dr6` as KVM reported them (DR6 form, as
    /// vmx.c and svm.c fill `debug.arch.dr6`), `pc` the linear RIP, `sites` the armed request
    /// sites, `opcode` reads the byte at `pc` (nil where it cannot be read; asked only for a
    /// #DB without a cause, so serving a site costs no memory walk).
    ///
    /// A site's breakpoint is a fault at the site with a B0–B3 hit. A single step that lands
    /// on a site reports BS alone: it is the guest's trap for the instruction before, and the
    /// breakpoint fires once the guest's handler returns. A #DB with no cause in DR6 is an
    /// ICEBP (Linux arch/x86/kernel/traps.c exc_debug_user: "dr6 has no reason to give us
    /// about the origin of this trap … the result of an icebp/int01 trap"); on VMX the exit
    /// comes before it retires (vmx.c: "the VM-Exit occurs on the ICEBP itself", and KVM skips
    /// it before queueing the #DB), so RIP moves past it when `pc` still holds it — the #DB
    /// is a trap, taken after the instruction.
    static func classify(
        exception: UInt32, dr6: UInt64, pc: UInt64, sites: [(address: UInt64, instruction: RequestInstruction)],
        opcode: () -> UInt8?
    ) -> Origin {
        guard exception == UInt32(vector) else { return .unexpected }
        let site = sites.first { $0.address == pc }?.instruction
        let steppedOnto = dr6 & singleStep != 0 && dr6 & breakpointHits == 0
        if let site, !steppedOnto { return .site(site) }
        let payload = (dr6 ^ activeLow) & ~(1 << 12)
        if payload & causes == 0 { return .guest(payload: payload, skip: opcode() == icebpOpcode ? 1 : 0) }
        return .guest(payload: payload, skip: 0)
    }
}

/// A rewritten request site whose guest instruction the runner is single-stepping with the
/// site's breakpoint off (`VCPULoop.steppingOver`).
struct SiteStep: Equatable {
    /// The site's linear address, re-armed after the step.
    let site: UInt64
    /// RFLAGS.TF was set as the instruction began: the guest's own single-step trap follows
    /// it, which KVM reports to user space while KVM_GUESTDBG_SINGLESTEP is on.
    let guestTrapOwed: Bool
}
