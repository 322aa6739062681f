import GuestPhysical
import Payload

/// A request the host served that is not a conversion (`RunEvent.served`): part of a
/// platform's protocol, or an access or instruction the runner answered as the platform does.
/// The event log spells it `description`; checks compare the values.
public enum ServedRequest: Sendable, Equatable, CustomStringConvertible {
    /// GHCB MSR protocol SEV information request.
    case sevInformation
    /// GHCB MSR protocol GHCB registration, with the GHCB's GPA.
    case registerGHCB(gpa: UInt64)
    /// GHCB MSR protocol hypervisor feature request.
    case hypervisorFeatures
    /// TDG.VP.INFO.
    case tdVPInfo
    /// TDG.VP.VEINFO.GET.
    case veInfoGet
    /// A TDVMCALL<MapGPA> the host answered with RETRY.
    case mapGPA(gpa: UInt64, size: UInt64)
    /// SEV-SNP: a C=0 read of a private page, which reads ciphertext.
    case ciphertextRead(page: UInt64, at: String)
    /// SEV-SNP: a C=1 access to a guest-owned page the guest has not validated.
    case unvalidatedAccess(GuestAccess, gpa: UInt64, at: String)
    /// TDX: a private access to a PENDING page.
    case pendingAccess(GuestAccess, gpa: UInt64, at: String)
    /// A PVALIDATE that faulted before reaching the RMP.
    case pvalidate(at: String)
    /// A request site armed for `armed` whose bytes the guest has since rewritten: `holds`,
    /// as an instruction fetch at the site read them (`RequestSiteCheck`).
    case rewrittenSite(armed: RequestInstruction, holds: [UInt8], at: String)
    /// A port access forwarded by the guest's protocol (GHCB IOIO event, TDVMCALL
    /// Instruction.IO): `count` items of `size` bytes (more than one: INS/OUTS through the
    /// scratch area).
    case portIO(port: UInt16, size: Int, count: Int, write: Bool)
    /// A raw port instruction the platform intercepts (SEV-SNP, TDX): not executed, the
    /// platform's exception delivered at it instead (`PlatformVCPU.portIntercept`).
    case portIntercept(port: UInt16, size: Int, write: Bool, at: String)
    /// A raw access to a GPA with no RAM behind it that the platform intercepts (SEV-SNP,
    /// TDX): not executed, the platform's exception delivered at it instead
    /// (`PlatformVCPU.mmioIntercept`). `gpa` as the guest put it on the bus.
    case mmioIntercept(gpa: UInt64, size: Int, write: Bool, at: String)
    /// A raw RDMSR / WRMSR the platform intercepts (SEV-SNP, TDX): not executed, the
    /// platform's exception delivered at it instead (`PlatformVCPU.msrIntercept`).
    case msrIntercept(index: UInt32, write: Bool, at: String)
    /// A raw CPUID the platform intercepts, caught by `RunOptions.catchRawCPUID`'s single
    /// steps: not executed, the platform's exception delivered at it instead
    /// (`PlatformVCPU.cpuidIntercept`).
    case cpuidIntercept(leaf: UInt32, subleaf: UInt32, at: String)
    /// A raw HLT the platform intercepts (TDX): not executed, #VE delivered at it instead
    /// (`PlatformVCPU.hltIntercept`).
    case hltIntercept(at: String)
    /// An RDMSR / WRMSR forwarded by the guest's protocol and answered.
    case msr(index: UInt32, write: Bool)
    /// A CPUID forwarded by the guest's protocol (GHCB CPUID event, the MSR protocol's CPUID
    /// request, TDVMCALL Instruction.CPUID).
    case cpuid(leaf: UInt32, subleaf: UInt32)
    /// An MMIO access forwarded by the guest's protocol (GHCB MMIO event, TDVMCALL
    /// #VE.RequestMMIO), `size` bytes at `gpa`.
    case mmio(gpa: UInt64, size: Int, write: Bool)
    /// TDVMCALL<GetTdVmCallInfo> with its leaf (R12).
    case tdVmCallInfo(leaf: UInt64)
    /// TDVMCALL Instruction.HLT.
    case hlt(interruptsBlocked: Bool)
    /// SEV-SNP RMPADJUST of the page at `gpa` for `targetVMPL`.
    case rmpadjust(gpa: UInt64, targetVMPL: UInt64, at: String)
    /// SEV: paging turned on with a CR3 that lacks the C-bit, which the runner added, as
    /// SEV hardware walks the tables as private anyway (`VCPULoop+Firmware`).
    case privatePageTableRoot(cr3: UInt64, at: String)

    public var description: String {
        switch self {
        case .rmpadjust(let gpa, let vmpl, let at): "RMPADJUST \(hex(gpa)) for VMPL\(vmpl) at \(at)"
        case .privatePageTableRoot(let cr3, let at): "paging on with CR3 \(hex(cr3)) (no C-bit) at \(at)"
        case .sevInformation: "SEV_INFO"
        case .registerGHCB(let gpa): "REGISTER_GHCB \(hex(gpa))"
        case .hypervisorFeatures: "HV_FEATURES"
        case .tdVPInfo: "TDG.VP.INFO"
        case .veInfoGet: "TDG.VP.VEINFO.GET"
        case .mapGPA(let gpa, let size): "MapGPA gpa \(hex(gpa)) size \(hex(size))"
        case .ciphertextRead(let page, let at): "C=0 read of private page \(hex(page)) at \(at)"
        case .unvalidatedAccess(let access, let gpa, let at): "\(access.rawValue) of unvalidated page \(hex(gpa)) at \(at)"
        case .pendingAccess(let access, let gpa, let at): "\(access.rawValue) of pending page \(hex(gpa)) at \(at)"
        case .pvalidate(let at): "PVALIDATE at \(at)"
        case .rewrittenSite(let armed, let holds, let at):
            "request site \(at), armed for \(armed), holds \(holds.isEmpty ? "no readable byte" : holds.map { ($0 < 0x10 ? "0" : "") + String($0, radix: 16) }.joined(separator: " "))"
        case .portIO(let port, let size, let count, let write):
            "\(write ? "OUT" : "IN") port \(hex(port)), \(size) byte\(size == 1 ? "" : "s")\(count == 1 ? "" : " × \(count)")"
        case .portIntercept(let port, let size, let write, let at):
            "raw \(write ? "OUT" : "IN") port \(hex(port)), \(size) byte\(size == 1 ? "" : "s") at \(at)"
        case .mmioIntercept(let gpa, let size, let write, let at):
            "raw MMIO \(write ? "write" : "read") of \(size) byte\(size == 1 ? "" : "s") at \(hex(gpa)) at \(at)"
        case .msrIntercept(let index, let write, let at): "raw \(write ? "WRMSR" : "RDMSR") \(hex(index)) at \(at)"
        case .cpuidIntercept(let leaf, let subleaf, let at): "raw CPUID \(hex(leaf)).\(subleaf) at \(at)"
        case .hltIntercept(let at): "raw HLT at \(at)"
        case .msr(let index, let write): "\(write ? "WRMSR" : "RDMSR") \(hex(index))"
        case .cpuid(let leaf, let subleaf): "CPUID \(hex(leaf)).\(subleaf)"
        case .mmio(let gpa, let size, let write): "MMIO \(write ? "write" : "read") of \(size) bytes at \(hex(gpa))"
        case .tdVmCallInfo(let leaf): "GetTdVmCallInfo leaf \(leaf)"
        case .hlt(let blocked): "HLT\(blocked ? " with interrupts blocked" : "")"
        }
    }
}
