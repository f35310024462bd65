using System.Security.Cryptography;
using System.Text;
using WorkbenchAdmin.Core.Platform;

namespace WorkbenchAdmin.Core.Configuration;

/// <summary>
/// Where a node's secure-cookie-key is and a hash of it. The key itself is never exposed: nodes are
/// compared by hash, which is all a cluster needs to know whether they match.
/// </summary>
public sealed record SecureCookieKeyInfo
{
    public string? Path { get; init; }
    /// <summary>How the path was found: <c>secure-cookie-key-file</c>, <c>config root</c> or <c>state directory</c>.</summary>
    public string? Source { get; init; }
    public bool Exists => Hash is not null;
    /// <summary>Lower-case hex SHA-256 of the key line (surrounding white space removed).</summary>
    public string? Hash { get; init; }
    public UnixFileMode? Mode { get; init; }
    public uint? OwnerUid { get; init; }
    public uint? OwnerGid { get; init; }
    /// <summary>Every path searched, in order, for messages when none exists.</summary>
    public IReadOnlyList<string> Searched { get; init; } = [];
}

public static class SecureCookieKey
{
    /// <summary>Where Workbench looks for the key, in order: <c>secure-cookie-key-file</c> (<paramref name="configured"/>), the config root, the state directory.</summary>
    public static IReadOnlyList<(string Path, string Source)> Candidates(ConfigRoot root, string? configured)
    {
        var candidates = new List<(string Path, string Source)>();
        if (configured is not null) candidates.Add((root.PathOf(configured), "secure-cookie-key-file"));
        candidates.Add((root.PathOf(ConfigFiles.SecureCookieKey), "config root"));
        if (root.StateDirectory is { } state) candidates.Add((System.IO.Path.Combine(state, ConfigFiles.SecureCookieKey), "state directory"));
        return candidates;
    }

    /// <summary>Finds the key in Workbench's order (<see cref="Candidates"/>).</summary>
    public static SecureCookieKeyInfo Locate(ConfigRoot root, RServerConfig rserver)
    {
        var candidates = Candidates(root, rserver.SecureCookieKeyFile);
        foreach (var (path, source) in candidates)
        {
            if (!File.Exists(path)) continue;
            var hash = HashFile(path); // first: a key that cannot be read fails here with its own error
            var status = UnixFile.TryStat(path);
            return new SecureCookieKeyInfo
            {
                Path = path,
                Source = source,
                Hash = hash,
                Mode = status?.Mode,
                OwnerUid = status?.Uid,
                OwnerGid = status?.Gid,
                Searched = candidates.Select(c => c.Path).ToList(),
            };
        }
        return new SecureCookieKeyInfo { Searched = candidates.Select(c => c.Path).ToList() };
    }

    public static string Hash(ReadOnlySpan<byte> keyFileContent)
    {
        var text = Encoding.UTF8.GetString(keyFileContent).Trim();
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text))).ToLowerInvariant();
    }

    /// <summary>The key file's bytes; a file that cannot be read is an error with a stable id, whatever the reason.</summary>
    public static byte[] Read(string path)
    {
        try { return File.ReadAllBytes(path); }
        catch (UnauthorizedAccessException e)
        {
            throw new WbException("SecureCookieKeyReadDenied", WbErrorCategory.PermissionDenied,
                $"Cannot read the secure-cookie-key '{path}': permission denied. Run as root.", path, e);
        }
        catch (IOException e)
        {
            throw new WbException("SecureCookieKeyReadFailed", WbErrorCategory.ReadError,
                $"Cannot read the secure-cookie-key '{path}': {e.Message}", path, e);
        }
    }

    private static string HashFile(string path)
    {
        var bytes = Read(path);
        if (Encoding.UTF8.GetString(bytes).Trim().Length == 0)
            throw new WbException("SecureCookieKeyEmpty", WbErrorCategory.InvalidData,
                $"The secure-cookie-key '{path}' is empty. Copy the cluster's key to this node (mode 600).", path);
        return Hash(bytes);
    }
}
