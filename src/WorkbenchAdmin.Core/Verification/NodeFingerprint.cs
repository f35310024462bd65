using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using WorkbenchAdmin.Core.Configuration;

namespace WorkbenchAdmin.Core.Verification;

/// <summary>
/// What a node publishes with its heartbeat so that the cross-node checks can compare nodes without
/// reaching them: a hash of each configuration file with the per-node address keys left out, its key
/// hash, protocol and version, a digest of the users it sees, its shared-storage path, the marker it wrote
/// there and the markers of other nodes it could read.
/// </summary>
public sealed record NodeFingerprint
{
    /// <summary>Keys that legitimately differ between nodes (the node's own address).</summary>
    public static readonly IReadOnlyDictionary<string, string[]> AddressKeys = new Dictionary<string, string[]>
    {
        [ConfigFiles.LoadBalancer] = ["www-host-name"],
        [ConfigFiles.RServer] = ["www-address", "www-port"],
    };

    public const string MarkerDirectory = ".workbenchadmin-markers";

    /// <summary>File name → hash of its entries (address keys removed); every regular file of the root.</summary>
    public Dictionary<string, string> ConfigHashes { get; init; } = [];
    public string? KeyHash { get; init; }
    public string? Protocol { get; init; }
    public string? Version { get; init; }
    /// <summary>SHA-256 of the sorted "name:uid:gid" of regular users (uid 1000 to 65533).</summary>
    public string? UsersDigest { get; init; }
    public string? SharedStoragePath { get; init; }
    /// <summary>The marker this node keeps in shared storage; null when it could not write one.</summary>
    public string? Marker { get; init; }
    public string? MarkerError { get; init; }
    /// <summary>Node address → the marker this node read for it in shared storage.</summary>
    public Dictionary<string, string> MarkersSeen { get; init; } = [];

    public string ToJson() => JsonSerializer.Serialize(this);
    public static NodeFingerprint FromJson(string json) => JsonSerializer.Deserialize<NodeFingerprint>(json) ?? new NodeFingerprint();

    public static NodeFingerprint Compute(ConfigRoot root, string address, string? version, VerificationProbes? probes = null)
    {
        probes ??= VerificationProbes.System;
        var rserver = RServerConfig.Load(root);
        var key = SecureCookieKey.Locate(root, rserver);
        var shared = rserver.ServerSharedStoragePath is { } configured ? probes.LocalPath(configured) : null;
        var (marker, markerError, seen) = ExchangeMarkers(shared, address);
        return new NodeFingerprint
        {
            ConfigHashes = HashConfigFiles(root),
            KeyHash = key.Hash,
            Protocol = rserver.Protocol,
            Version = version,
            UsersDigest = DigestUsers(probes.PasswdPath),
            SharedStoragePath = rserver.ServerSharedStoragePath,
            Marker = marker,
            MarkerError = markerError,
            MarkersSeen = seen,
        };
    }

    internal static Dictionary<string, string> HashConfigFiles(ConfigRoot root)
    {
        var hashes = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!Directory.Exists(root.Path)) return hashes;
        var roles = ConfigFileRoles.Of(root); // never the secure-cookie-key, wherever rserver.conf puts it
        foreach (var path in Directory.EnumerateFiles(root.Path).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(path);
            if (!roles.IsConfiguration(name)) continue;
            hashes[name] = HashFile(path, name);
        }
        return hashes;
    }

    /// <summary>The entries of a key=value file in order, white space and comments aside; other files byte for byte.</summary>
    private static string HashFile(string path, string name)
    {
        var bytes = File.ReadAllBytes(path);
        try
        {
            var doc = ConfigDocument.Parse(bytes, path, ConfigFiles.DialectOf(name));
            var skip = AddressKeys.GetValueOrDefault(name) ?? [];
            var canonical = new StringBuilder();
            foreach (var line in doc.Entries)
            {
                if (line.Kind == ConfigLineKind.Entry && skip.Contains(line.Key)) continue;
                canonical.Append('[').Append(line.Section).Append(']').Append(line.Key).Append('=').Append(line.Value).Append('\n');
            }
            return Hash(Encoding.UTF8.GetBytes(canonical.ToString()));
        }
        catch (ConfigFormatException)
        {
            return Hash(bytes);
        }
    }

    internal static string? DigestUsers(string passwdPath)
    {
        if (!File.Exists(passwdPath)) return null;
        var users = File.ReadLines(passwdPath)
            .Select(l => l.Split(':'))
            .Where(f => f.Length > 3 && uint.TryParse(f[2], out var uid) && uid is >= 1000 and < 65534)
            .Select(f => $"{f[0]}:{f[2]}:{f[3]}")
            .Order(StringComparer.Ordinal);
        return Hash(Encoding.UTF8.GetBytes(string.Join("\n", users)));
    }

    /// <summary>Writes (or keeps) this node's marker in shared storage and reads every other node's.</summary>
    private static (string? Marker, string? Error, Dictionary<string, string> Seen) ExchangeMarkers(string? sharedPath, string address)
    {
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        if (string.IsNullOrEmpty(sharedPath)) return (null, "server-shared-storage-path is not set", seen);
        // Never create the shared path itself: on a node whose mount is missing that would put a local
        // directory where the shared storage belongs.
        if (!Directory.Exists(sharedPath)) return (null, $"server-shared-storage-path {sharedPath} does not exist on this node (is the shared storage mounted?)", seen);
        var directory = Path.Combine(sharedPath, MarkerDirectory);
        string? marker = null;
        string? error = null;
        try
        {
            Directory.CreateDirectory(directory);
            var mine = Path.Combine(directory, MarkerFileName(address));
            marker = File.Exists(mine) ? File.ReadAllText(mine).Trim() : null;
            if (string.IsNullOrEmpty(marker))
            {
                marker = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
                Platform.AtomicFile.Write(mine, Encoding.UTF8.GetBytes(marker + "\n"));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or WbException)
        {
            error = $"cannot write a marker in '{directory}': {e.Message}";
            marker = null;
        }
        if (Directory.Exists(directory))
        {
            foreach (var file in Directory.EnumerateFiles(directory))
            {
                var name = Path.GetFileName(file);
                if (name.StartsWith('.')) continue;
                try { seen[AddressOfMarker(name)] = File.ReadAllText(file).Trim(); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            }
        }
        return (marker, error, seen);
    }

    internal static string MarkerFileName(string address) => address.Replace(':', '_').Replace('/', '_');
    private static string AddressOfMarker(string fileName)
    {
        var i = fileName.LastIndexOf('_');
        return i < 0 ? fileName : fileName[..i] + ":" + fileName[(i + 1)..];
    }

    private static string Hash(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();
}
