import GuestPhysical
import KVM

/// Which raw RDMSR/WRMSR a platform lets reach the hypervisor's MSR handling (KVM, as
/// today) and which it intercepts before the instruction executes (SEV-SNP: #VC; TDX: #VE or
/// #GP from the TDX module). Pure; the run installs it as a KVM MSR filter (`filter`) so
/// that every intercepted access exits to user space, where `VCPULoop+MSRs` asks the
/// vCPU's platform half for the exception (`PlatformVCPU.msrIntercept`).
protocol RawMSRRule: Sendable {
    func reachesKVM(_ index: UInt32, isWrite: Bool) -> Bool
    /// `buildFilter()`, built once per rule (a run installs it at every VM creation).
    var filter: MSRFilter { get }
}

extension RawMSRRule {
    /// The three MSR ranges that hold every architectural MSR the rules name (the VMX MSR
    /// bitmap's low and high halves, Intel SDM vol. 3 §25.6.9, and AMD's 0xC001xxxx block,
    /// the third range of the SVM MSR permission map, AMD APM vol. 2 §15.11): a bitmap for
    /// each, reads and writes apart. MSRs outside them are denied by the filter's default.
    static var filterRanges: [(base: UInt32, count: Int)] {
        [(0, 0x2000), (0xC000_0000, 0x2000), (0xC001_0000, 0x2000)]
    }

    /// The KVM MSR filter that lets exactly the accesses `reachesKVM` allows through.
    func buildFilter() -> MSRFilter {
        MSRFilter(
            ranges: Self.filterRanges.flatMap { range in
                [false, true].map { isWrite in
                    MSRFilter.Range(base: range.base, count: range.count, isWrite: isWrite) { reachesKVM($0, isWrite: isWrite) }
                }
            })
    }
}

/// A raw RDMSR/WRMSR as the runner found it at a user-space MSR exit.
struct InterceptedMSR: Equatable {
    let index: UInt32
    let isWrite: Bool
    /// The value a WRMSR would have written (EDX:EAX); 0 for RDMSR.
    let value: UInt64
    /// Where the vCPU is (symbolized).
    let at: String

    /// RDMSR and WRMSR are two bytes (0F 32, 0F 30; Intel SDM vol. 2).
    static let instructionLength = 2
    static let rdmsrOpcode: [UInt8] = [0x0F, 0x32]
    static let wrmsrOpcode: [UInt8] = [0x0F, 0x30]

    var words: String {
        isWrite ? "WRMSR \(hex(index)) of \(hex(value)) at \(at)" : "RDMSR \(hex(index)) at \(at)"
    }

    func served(vcpu: Int, interface: ConversionPlatform, answer: String) -> RunEvent {
        .served(vcpu: vcpu, interface: interface, request: .msrIntercept(index: index, write: isWrite, at: at), answer: answer)
    }
}
