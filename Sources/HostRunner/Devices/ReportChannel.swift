import GuestPhysical
import Payload

/// The guest's report channel as the host reads it (docs/report-protocol.md): log bytes on
/// the debug console, report records in guest memory named by the record port, the exit
/// code on the exit port; every other port answered as a PC bus does and counted as unserved.
/// Pure code over the exit's bytes and guest memory, one per vCPU: no vCPU needed, so it is
/// tested over a plain buffer. A class, so the loop's call on every port exit needs no
/// exclusive access to a struct property of the loop.
final class ReportChannel {
    let vcpu: Int
    let memory: GuestMemory
    /// Malformed records after which the vCPU is stopped (`RunOptions.malformedRecordLimit`).
    let malformedRecordLimit: Int
    /// The host's checksum of planned bytes `[gpa, gpa + length)`, nil outside the populated plan.
    let plannedChecksum: (_ gpa: UInt64, _ length: UInt64) -> UInt32?
    /// A guest address as the image names it (symbol + offset).
    let symbolize: (UInt64) -> String
    private var line: [UInt8] = []
    private(set) var malformed = 0
    /// The longest line kept before it is cut (a guest that never writes a newline).
    static let longestLine = 4096

    init(
        vcpu: Int, memory: GuestMemory, malformedRecordLimit: Int,
        plannedChecksum: @escaping (UInt64, UInt64) -> UInt32?, symbolize: @escaping (UInt64) -> String
    ) {
        self.vcpu = vcpu
        self.memory = memory
        self.malformedRecordLimit = malformedRecordLimit
        self.plannedChecksum = plannedChecksum
        self.symbolize = symbolize
        line.reserveCapacity(256)
    }

    /// Serves one port access (`count` items of `size` bytes in `data`); nil to resume.
    /// `injected`: the last exception the runner injected, named in an EXCEPTION record of it.
    func handle(
        port: UInt16, isWrite: Bool, size: Int, count: Int, data: some PortData,
        recorder: EventRecorder, injected: InjectedException?
    ) -> VCPUFinish? {
        switch (port, isWrite) {
        case (ReportPort.debugConsole, true):
            for offset in 0..<data.count { append(data[offset], recorder) }
        case (ReportPort.record, false):
            for item in 0..<count { data.store(UInt64(ReportPort.presence), width: size, item: item) }
        case (ReportPort.record, true):
            for item in 0..<count {
                if let finish = readRecord(gpa: data.load(width: size, item: item), recorder, injected) { return finish }
            }
        case (ReportPort.exit, true):
            return .exited(UInt32(truncatingIfNeeded: data.load(width: size, item: 0)))
        case (ReportPort.postCode, true):
            break
        case (_, false):
            for item in 0..<count { data.store(ReportPort.floatingBus, width: size, item: item) }
            recorder.noteUnserved(.ignoredIO(vcpu: vcpu, port: port, write: false))
        case (_, true):
            recorder.noteUnserved(.ignoredIO(vcpu: vcpu, port: port, write: true))
        }
        return nil
    }

    /// Keeps the log line still being written, if any (at a record and when the vCPU ends).
    func flush(_ recorder: EventRecorder) {
        guard !line.isEmpty else { return }
        recorder.keepLog(String(decoding: line, as: UTF8.self))
        line.removeAll(keepingCapacity: true)
    }

    private func append(_ byte: UInt8, _ recorder: EventRecorder) {
        if byte == UInt8(ascii: "\n") { return flush(recorder) }
        line.append(byte)
        if line.count >= Self.longestLine { flush(recorder) }
    }

    /// Reads and records one report record; an EXCEPTION record or too many malformed ones
    /// end the vCPU's run.
    private func readRecord(gpa: UInt64, _ recorder: EventRecorder, _ injected: InjectedException?) -> VCPUFinish? {
        guard let decoded = memory.withPrefix(at: gpa, upTo: ReportRecord.maximumSize, ReportRecord.decode) else {
            return malformedRecord(gpa: gpa, ReportRecordError.outsideMemory.description, recorder)
        }
        switch decoded {
        case .success(.log(let text)):
            flush(recorder)
            recorder.keepLog(text)
        case .success(.exception(let vector, let errorCode, let rip, let cr2)):
            var at = symbolize(rip)
            if let injected, injected.vector == vector { at += " (\(injected.cause))" }
            return .stopped(.exception(vector: vector, errorCode: errorCode, at: at, cr2: cr2))
        case .success(.checksum(let name, let checksumGPA, let length, let crc)):
            guard let host = plannedChecksum(checksumGPA, length) else {
                return malformedRecord(
                    gpa: gpa,
                    "CHECKSUM '\(name)' names \(Self.describe(gpa: checksumGPA, length: length)), "
                        + "which is not inside the ranges the plan populated", recorder)
            }
            recorder.keep(
                checksum: .checksum(name: name, gpa: checksumGPA, length: length, crc: crc),
                RunResult.ChecksumComparison(name: name, gpa: checksumGPA, length: length, guest: crc, host: host))
        case .success(let record):
            recorder.keep(record: record)
        case .failure(let error):
            return malformedRecord(gpa: gpa, error.description, recorder)
        }
        return nil
    }

    private func malformedRecord(gpa: UInt64, _ reason: String, _ recorder: EventRecorder) -> VCPUFinish? {
        malformed += 1
        recorder.keep(.malformedRecord(vcpu: vcpu, gpa: gpa, reason: reason))
        return malformed >= malformedRecordLimit ? .stopped(.reportFlood(malformed: malformed)) : nil
    }

    /// `[gpa, gpa + length)` unwrapped, for a record that names a range past 2^64.
    static func describe(gpa: UInt64, length: UInt64) -> String {
        let (end, overflow) = gpa.addingReportingOverflow(length)
        return overflow ? "[\(hex(gpa)), 2^64 + \(hex(end)))" : "[\(hex(gpa)), \(hex(end)))"
    }
}
