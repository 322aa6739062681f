/// What a VMGEXIT through a GHCB page asks for, after the checks KVM makes.
public enum GHCBExitRequest: Sendable, Hashable {
    /// SVM_VMGEXIT_PSC (0x80000010); the descriptor header sits at this byte offset
    /// of the GHCB page.
    case pageStateChange(descriptorOffset: Int)
    /// SVM_EXIT_VMMCALL (0x81): a KVM hypercall with RAX = nr and RBX/RCX/RDX/RSI =
    /// a0–a3 taken from the GHCB (zero where not marked valid, as KVM copies them).
    case hypercall(nr: UInt64, a0: UInt64, a1: UInt64, a2: UInt64, a3: UInt64, cpl: UInt8)
    /// Any other exit code: not this module's business; the runner decides.
    case unhandled(exitCode: UInt64)
}
