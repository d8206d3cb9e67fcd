import Glibc
import TactusCore
import TactusIO

/// Everything `tactus run` checks before it starts a thread, in one place, so that
/// `check-config` accepts exactly what `run` accepts: the configuration's own rules
/// (`TactusConfig.validate`, done by ConfigLoading), the model file and its fit to the feature
/// stage, the socket's group, and the file a paced-file capture plays. What only the moment can
/// tell (a socket path a running daemon holds, an OSC host that does not resolve yet, a capture
/// device that is not plugged in) is left to the daemon, which copes with each while it runs.
enum Preflight {
    struct Checked {
        var model: ModelSpec?
        var pipeline: BeatPipeline
        var socketGroup: gid_t?
    }

    static func check(_ config: TactusConfig) throws(ConfigLoading.Failure) -> Checked {
        var model: ModelSpec?
        if !config.modelPath.isEmpty {
            do { model = try ModelFile.load(path: config.modelPath) } catch {
                throw ConfigLoading.Failure(message: "model.path: \(error)")
            }
        }
        let pipeline: BeatPipeline
        do { pipeline = try BeatPipeline(config: config, model: model) } catch {
            throw ConfigLoading.Failure(message: "model.path: \(config.modelPath): \(error)")
        }
        var group: gid_t?
        if !config.output.jsonlSocketGroup.isEmpty {
            guard let gid = groupID(config.output.jsonlSocketGroup) else {
                throw ConfigLoading.Failure(
                    message: "output.jsonl_socket_group: no group '\(config.output.jsonlSocketGroup)'")
            }
            group = gid
        }
        if config.capture.source == .file {
            do { _ = try AudioFileReader(path: config.capture.file) } catch {
                throw ConfigLoading.Failure(message: "capture.file: \(error)")
            }
        }
        return Checked(model: model, pipeline: pipeline, socketGroup: group)
    }

    /// The group's id by name, or a number given as one.
    static func groupID(_ name: String) -> gid_t? {
        if let n = UInt32(name) { return n }
        var entry = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        let rc = getgrnam_r(name, &entry, &buffer, buffer.count, &result)
        return rc == 0 && result != nil ? entry.gr_gid : nil
    }
}
