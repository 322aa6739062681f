#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CKVM

/// An SEV-SNP page type for KVM_SEV_SNP_LAUNCH_UPDATE (`KVM_SEV_SNP_PAGE_TYPE_*`).
public struct SNPPageType: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let normal = SNPPageType(rawValue: UInt8(CKVM_SEV_SNP_PAGE_TYPE_NORMAL))
    public static let zero = SNPPageType(rawValue: UInt8(CKVM_SEV_SNP_PAGE_TYPE_ZERO))
    public static let unmeasured = SNPPageType(rawValue: UInt8(CKVM_SEV_SNP_PAGE_TYPE_UNMEASURED))
    public static let secrets = SNPPageType(rawValue: UInt8(CKVM_SEV_SNP_PAGE_TYPE_SECRETS))
    public static let cpuid = SNPPageType(rawValue: UInt8(CKVM_SEV_SNP_PAGE_TYPE_CPUID))
}

/// The arguments (and, after the call, the progress KVM writes back) of
/// KVM_SEV_SNP_LAUNCH_UPDATE: populate `length` bytes at `gfnStart` from `sourceAddress`.
public struct SNPLaunchUpdate: Sendable, Equatable {
    /// First guest frame number to populate (must be in a guest_memfd memslot, private).
    public var gfnStart: UInt64
    /// Host address of the source bytes (0 for `.zero` pages).
    public var sourceAddress: UInt64
    /// Bytes to populate, page aligned.
    public var length: UInt64
    /// What the pages are.
    public var pageType: SNPPageType

    public init(gfnStart: UInt64, sourceAddress: UInt64, length: UInt64, pageType: SNPPageType) {
        self.gfnStart = gfnStart
        self.sourceAddress = sourceAddress
        self.length = length
        self.pageType = pageType
    }

    /// The C structure passed to the kernel (flags and padding zero).
    var cValue: ckvm_sev_snp_launch_update {
        var raw = ckvm_sev_snp_launch_update()
        raw.gfn_start = gfnStart
        raw.uaddr = sourceAddress
        raw.len = length
        raw.type = pageType.rawValue
        return raw
    }

    /// Takes over the progress KVM wrote back.
    mutating func update(from raw: ckvm_sev_snp_launch_update) {
        gfnStart = raw.gfn_start
        sourceAddress = raw.uaddr
        length = raw.len
    }
}

/// The arguments (and progress written back) of KVM_TDX_INIT_MEM_REGION: add `pageCount`
/// pages at `gpa` from `sourceAddress`, extending the measurement if `measure`.
public struct TDXInitMemRegion: Sendable, Equatable {
    public var sourceAddress: UInt64
    public var gpa: UInt64
    public var pageCount: UInt64
    public var measure: Bool

    public init(sourceAddress: UInt64, gpa: UInt64, pageCount: UInt64, measure: Bool) {
        self.sourceAddress = sourceAddress
        self.gpa = gpa
        self.pageCount = pageCount
        self.measure = measure
    }

    var cValue: ckvm_tdx_init_mem_region {
        ckvm_tdx_init_mem_region(source_addr: sourceAddress, gpa: gpa, nr_pages: pageCount)
    }

    /// `kvm_tdx_cmd.flags` for this request.
    var commandFlags: UInt32 { measure ? CKVM_TDX_MEASURE_MEMORY_REGION : 0 }

    mutating func update(from raw: ckvm_tdx_init_mem_region) {
        sourceAddress = raw.source_addr
        gpa = raw.gpa
        pageCount = raw.nr_pages
    }
}

/// KVM_MEMORY_ENCRYPT_OP on `fd`: points `command`'s data field at `data` for the duration
/// of the call (KVM may write progress back into both). Returns the ioctl result and errno.
private func memoryEncryptOp<Command, Data>(
    fd: Int32, command: inout Command, dataField: WritableKeyPath<Command, UInt64>, data: inout Data
) -> (result: Int32, errno: Int32) {
    // SAFETY: `data` is pinned for the closure, which spans the whole ioctl.
    withUnsafeMutablePointer(to: &data) { pointer in
        command[keyPath: dataField] = UInt64(UInt(bitPattern: pointer))
        // SAFETY: `command` is a live C structure; its data field points at the pinned `data`.
        let result = withUnsafeMutablePointer(to: &command) { ckvm_ioctl_ptr(fd, CKVM_IOCTL_MEMORY_ENCRYPT_OP, $0) }
        return (result, errno)
    }
}

extension VirtualMachine {
    /// KVM_MEMORY_ENCRYPT_OP(KVM_SEV_SNP_LAUNCH_UPDATE) on the VM fd (SNP VMs only).
    /// `update` receives the progress KVM writes back, on success and on failure.
    public func snpLaunchUpdate(_ update: inout SNPLaunchUpdate, sevFd: Int32 = 0) throws(KVMError) {
        var data = update.cValue
        var command = ckvm_sev_cmd()
        command.id = UInt32(CKVM_SEV_SNP_LAUNCH_UPDATE)
        command.sev_fd = UInt32(bitPattern: sevFd)
        let (result, code) = memoryEncryptOp(fd: fd, command: &command, dataField: \.data, data: &data)
        update.update(from: data)
        if result < 0 {
            throw .encryptOp(command: "KVM_SEV_SNP_LAUNCH_UPDATE", errno: code, firmwareError: UInt64(command.error))
        }
    }
}

extension VCPU {
    /// KVM_MEMORY_ENCRYPT_OP(KVM_TDX_INIT_MEM_REGION) on the vCPU fd (TDX VMs only, after
    /// KVM_TDX_INIT_VCPU). `region` receives the progress KVM writes back.
    public func tdxInitMemRegion(_ region: inout TDXInitMemRegion) throws(KVMError) {
        var data = region.cValue
        var command = ckvm_tdx_cmd()
        command.id = UInt32(CKVM_TDX_INIT_MEM_REGION)
        command.flags = region.commandFlags
        let (result, code) = memoryEncryptOp(fd: fd, command: &command, dataField: \.data, data: &data)
        region.update(from: data)
        if result < 0 {
            throw .encryptOp(command: "KVM_TDX_INIT_MEM_REGION", errno: code, firmwareError: command.hw_error)
        }
    }
}
