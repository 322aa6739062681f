import GuestPhysical

/// Everything that happened in a run, in order per vCPU: what the guest reported and what
/// the host did. Reports and verdicts are computed from these, never from side channels.
public enum RunEvent: Sendable, Equatable {
    case log(vcpu: Int, line: String)
    case record(vcpu: Int, ReportRecord)
    case malformedRecord(vcpu: Int, gpa: UInt64, reason: String)
    case msr(vcpu: Int, index: UInt32, write: Bool, value: UInt64, answered: Bool)
    case ignoredIO(vcpu: Int, port: UInt16, write: Bool)
    /// An MMIO access (raw or forwarded by a protocol) at a GPA no device decodes.
    case ignoredMMIO(vcpu: Int, gpa: UInt64, length: Int, write: Bool)
    case conversion(vcpu: Int, ConversionRecord)
    case rejected(vcpu: Int, RejectedRequest)
    /// A PVALIDATE or TDG.MEM.PAGE.ACCEPT, with its answer.
    case validation(vcpu: Int, ValidationRecord)
    /// A request that is not a conversion but part of the protocol (GHCB registration,
    /// SEV information, TDG.VP.INFO, …), with the answer it got.
    case served(vcpu: Int, interface: ConversionPlatform, request: ServedRequest, answer: String)
    /// An instruction this host's KVM cannot execute that the runner performed for the guest
    /// (an x87/SSE control instruction, `VCPULoop+Emulation`), with where it was.
    case emulated(vcpu: Int, instruction: String, at: String)
    /// A firmware volume reached a milestone (`FirmwareMilestone`).
    case milestone(vcpu: Int, FirmwareMilestone)
    /// The vCPU ended at the run's `--until` milestone, as asked: a pass.
    case stoppedAtMilestone(vcpu: Int, FirmwareMilestone)
    case exited(vcpu: Int, code: UInt32)
    case stopped(vcpu: Int, VCPUStop)
}

/// Why a vCPU stopped other than by reporting an exit code.
public enum VCPUStop: Sendable, Equatable, CustomStringConvertible {
    case exception(vector: UInt64, errorCode: UInt64, at: String, cr2: UInt64)
    case tripleFault(at: String)
    case timeout(after: Double, at: String)
    case unmappedAccess(gpa: UInt64, isWrite: Bool, at: String)
    case memoryFault(gpa: UInt64, size: UInt64, isPrivate: Bool, at: String)
    case halted(at: String)
    case internalError(suberror: UInt32, at: String)
    case failedEntry(reason: UInt64)
    case reportFlood(malformed: Int)
    case unexpectedDebug(at: String)
    case unsupportedExit(reason: UInt32, at: String)
    /// The guest asked its platform to end it (GHCB termination request, TDVMCALL
    /// ReportFatalError): a verdict the guest gave, with its reason.
    case terminationRequested(GuestTermination)
    /// The platform stopped the guest (e.g. a TD's access to a pending page under
    /// SEPT_VE_DISABLE, which KVM answers by marking the TD dead).
    case platformStopped(String)
    case unsupportedRequest(String)
    case hostError(String)

    public var description: String {
        switch self {
        case .exception(let vector, let errorCode, let at, let cr2):
            // CR2 holds the faulting address for #PF and for #VC PAGE_NOT_VALIDATED (APM §15.36.10).
            "guest exception \(Self.vectorName(vector)) (vector \(vector), error code \(hex(errorCode))) at \(at)"
                + (vector == 14 || (vector == 29 && errorCode == 0x404) ? ", CR2 \(hex(cr2))" : "")
        case .tripleFault(let at): "triple fault at \(at)"
        case .timeout(let after, let at): String(format: "timed out after %.1f s; the guest was at ", after) + at
        case .unmappedAccess(let gpa, let isWrite, let at): "\(isWrite ? "write to" : "read from") unmapped GPA \(hex(gpa)) at \(at)"
        case .memoryFault(let gpa, let size, let isPrivate, let at):
            "memory fault on \(isPrivate ? "private" : "shared") GPA \(hex(gpa)) (+\(hex(size))) at \(at)"
        case .halted(let at): "the guest halted without reporting an exit code, at \(at)"
        case .internalError(let suberror, let at): "KVM internal error (suberror \(suberror)\(suberror == 1 ? ", emulation failure" : "")) at \(at)"
        case .failedEntry(let reason): "VM entry failed (hardware reason \(hex(reason)))"
        case .reportFlood(let count): "report channel flooded: \(count) malformed records"
        case .unexpectedDebug(let at): "unexpected debug exit at \(at)"
        case .unsupportedExit(let reason, let at): "unsupported KVM exit reason \(reason) at \(at)"
        case .terminationRequested(let termination): "the guest asked to terminate: \(termination)"
        case .platformStopped(let reason): reason
        case .unsupportedRequest(let what): "unsupported request: \(what)"
        case .hostError(let message): "host error: \(message)"
        }
    }

    static func vectorName(_ vector: UInt64) -> String {
        // Linux trapnr.h: 20 #VE, 21 #CP, 28 #HV, 29 #VC, 30 #SX.
        let names = [
            "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "#15",
            "#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "vector 22", "vector 23", "vector 24", "vector 25", "vector 26",
            "vector 27", "#HV", "#VC", "#SX",
        ]
        return vector < names.count ? names[Int(vector)] : "vector \(vector)"
    }
}
