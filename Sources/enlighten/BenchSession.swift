import Foundation
import GuestPhysical
import HostRunner
import KVM
import Payload

/// One `enlighten bench`: the host, the floor, the images both sides run, and the figures.
/// Every figure is measured in rounds that each run both sides back to back (taking turns
/// at going first), so that a shared machine's changing load hits both sides alike; a
/// figure's ratio is the median of its rounds' ratios (`BenchFigure`).
final class BenchSession {
    let rounds: Int
    let system: KVMSystem
    /// Computed once, as a process computes it once: the probe runs test guests of its own.
    let probe: HostProbe
    /// Where guest RAM lives on both sides: the runner's `RunOptions.backing` and the floor's
    /// `--backing`/`--memslot` say the same.
    let backing: RAMBacking
    let root: ProjectRoot
    let builder: ImageBuilder
    let floor: FloorProgram
    let scratch: String
    let progress: (String) -> Void
    private var skipped: [String: String] = [:]

    init(rounds: Int, host: (probe: HostProbe, backing: RAMBacking), system: KVMSystem, progress: @escaping (String) -> Void) throws(BenchError) {
        self.rounds = rounds
        self.progress = progress
        self.system = system
        (probe, backing) = host
        do {
            root = try ProjectRoot.locate()
            builder = try ImageBuilder(toolchain: try Toolchain.locate(), root: root)
        } catch {
            throw Self.buildFailure(error)
        }
        var template = Array((NSTemporaryDirectory() + "/enlighten-bench-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw .toolFailed("cannot make a scratch folder: \(String(cString: strerror(errno)))") }
        scratch = String(cString: made)
        floor = try FloorProgram.prepare(root: root, scratch: scratch, backing: backing)
    }

    deinit { try? FileManager.default.removeItem(atPath: scratch) }

    /// Every figure's id, in the order they are measured (`bench --only ID`).
    static let figureIDs =
        ["setup"] + LoopFigure.all.map(\.id) + ValidatedFigure.all.map(\.id) + ForwardedFigure.all.map(\.id) + ["population", "qemu-hello"]
        + firmwarePlatforms.map(\.id) + ["image-build"]

    /// Measures the figures whose ids are in `only` (all when it is empty).
    func run(only: Set<String> = []) throws(BenchError) -> BenchReport {
        let wanted = { (id: String) in only.isEmpty || only.contains(id) }
        let exits = try build(LoopFigure.portExit.stub, layout: .direct64)
        var figures: [BenchFigure] = []
        if wanted("setup") {
            progress("VM ready to run")
            figures.append(try setupFigure(exits))
        }
        for loop in LoopFigure.all where wanted(loop.id) {
            progress(loop.name)
            do {
                figures += try loopFigures(loop, portExitImage: exits)
            } catch {
                // A figure that decides nothing must not hide the ones that do.
                guard !loop.judged else { throw error }
                skip(loop.id, because: error.description)
            }
        }
        for validated in ValidatedFigure.all where wanted(validated.id) {
            progress(validated.name)
            figures.append(try validatedFigure(validated))
        }
        for forwarded in ForwardedFigure.all where wanted(forwarded.id) {
            progress(forwarded.name)
            do {
                figures.append(try forwardedFigure(forwarded))
            } catch {
                guard !forwarded.judged else { throw error }
                skip(forwarded.id, because: error.description)
            }
        }
        if wanted("population") {
            progress("pre-populating \(BenchSession.payloadBytes >> 20) MiB")
            figures.append(try populationFigure())
        }
        if wanted("qemu-hello") {
            progress("hello (firmware layout) against QEMU")
            if let qemu = try qemuFigure() { figures.append(qemu) }
        }
        figures += firmwareFigures(wanted: wanted)
        if wanted("image-build") {
            progress("conformance images, cold and warm")
            figures.append(try buildCacheFigure())
        }
        return BenchReport(rounds: rounds, floorBinary: floor.origin, backing: backing, figures: figures, skipped: skipped)
    }

    func skip(_ id: String, because why: String) { skipped[id] = why }

    /// A built image of `stub` (a path under the project root), saved in the scratch folder.
    /// A direct64 stub whose request sites both sides trap, for the figures that time a
    /// request round trip: the image, its sites as the floor takes them, and our run options.
    func trappedStub(_ stub: String, platform: ConversionPlatform) throws(BenchError) -> (
        built: (image: Image, files: ImageWriter.Written), sites: String, options: RunOptions
    ) {
        let built = try build(stub, layout: .direct64)
        guard !built.image.sites.isEmpty else { throw .runner("\(stub) has no request site") }
        var options = runOptions()
        options.platform = platform
        options.timeout = 60
        return (built, built.image.sites.map { hex($0.address) }.joined(separator: ","), options)
    }

    func build(_ stub: String, layout: Layout) throws(BenchError) -> (image: Image, files: ImageWriter.Written) {
        do {
            let image = try builder.build(try StubSource.resolve(root.path + "/" + stub, root: root), layout: layout)
            return (image, try ImageWriter(directory: scratch).write(image))
        } catch {
            throw Self.buildFailure(error)
        }
    }

    /// A missing tool means this host cannot run the bench; anything else is our failure.
    private static func buildFailure(_ error: BuildError) -> BenchError {
        if case .missingTool = error { return .hostUnavailable(error.description) }
        return .runner(error.description)
    }

    /// One round's pair of measurements: the floor first in even rounds, ours first in odd
    /// ones, so that neither side always runs in the other's wake (freed memory, caches).
    func inTurn<Floor, Ours>(
        _ round: Int, floor: () throws(BenchError) -> Floor, ours: () throws(BenchError) -> Ours
    ) throws(BenchError) -> (Floor, Ours) {
        if round % 2 == 0 {
            let first = try floor()
            return (first, try ours())
        }
        let first = try ours()
        return (try floor(), first)
    }
}
