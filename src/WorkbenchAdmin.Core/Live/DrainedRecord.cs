using System.Text;
using WorkbenchAdmin.Core.Platform;

using WorkbenchAdmin.Core.Balancing;

namespace WorkbenchAdmin.Core.Live;

/// <summary>
/// The balancer program's record of which nodes were drained when the store last answered, so a drain holds
/// while the store is down. One address per line (<c>host:port</c>, and <c>ip:port</c> where known); rewritten
/// atomically, and only when it changes, so a decision normally writes nothing.
/// </summary>
public static class DrainedRecord
{
    public const string FileName = "drained";

    public static IReadOnlySet<string>? Read(string stateDirectory)
    {
        var path = Path.Combine(stateDirectory, FileName);
        if (!File.Exists(path)) return null;
        byte[] content;
        try { content = TrustedPath.ReadFile(path, ProgramSettings.MaxFileBytes); }
        catch (Exception e) when (e is UnsafeDirectoryException or UntrustedFileException)
        {
            throw new WbException("BalancerStateUnsafe", WbErrorCategory.SecurityError, $"{path} is not read: {e.Message}.", path);
        }
        catch (FileNotFoundException) { return null; }
        return Encoding.UTF8.GetString(content).Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && l[0] != '#').ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Records the drained nodes of <paramref name="nodes"/> when that differs from <paramref name="previous"/>; true when written.</summary>
    public static bool Update(string stateDirectory, IReadOnlyList<NodeInfo> nodes, IReadOnlySet<string>? previous)
    {
        var drained = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var n in nodes.Where(n => n.Draining))
        {
            drained.Add(n.Address);
            if (n.IPv4Address is { } ip) drained.Add(NodeCandidate.FormatAddress(ip, n.Port));
        }
        if (previous is not null && previous.SetEquals(drained)) return false;
        if (previous is null && drained.Count == 0 && !Directory.Exists(stateDirectory)) return false;
        Directory.CreateDirectory(stateDirectory);
        var text = new StringBuilder("# Nodes drained when the store last answered (written by WorkbenchAdmin's balancer program).\n");
        foreach (var d in drained) text.Append(d).Append('\n');
        AtomicFile.Write(Path.Combine(stateDirectory, FileName), Encoding.UTF8.GetBytes(text.ToString()));
        return true;
    }
}
