using System.Text;
using System.Text.RegularExpressions;
using WorkbenchAdmin.Core.Platform;

namespace WorkbenchAdmin.Core.Proxies;

/// <summary>One configuration file as read.</summary>
public sealed record ProxySource(string Path, string Text);

/// <summary>
/// Reads a proxy's files. We usually run as root, and a proxy configuration may include globs: every file is
/// reached through <see cref="TrustedPath"/>, so a link or directory someone else could plant on the way
/// makes the read fail (naming it) instead of leading us to a file of their choosing.
/// </summary>
public static class ProxyFiles
{
    /// <summary>Includes nested deeper than this are a loop.</summary>
    public const int MaxIncludeDepth = 16;

    public static ProxySource ReadMain(string path) => Read(Path.GetFullPath(path), null);

    /// <summary>Far beyond any proxy's configuration file: a bound on what root reads.</summary>
    public const int MaxFileBytes = 16 * 1024 * 1024;

    public static ProxySource Read(string path, SourceLocation? includedFrom)
    {
        var where = includedFrom is null ? "" : $" (included from {includedFrom})";
        try
        {
            // Opened once and judged on what was opened: a file another user owns (an include in /tmp, say) could
            // be swapped for a FIFO or a link between a check by path and the read.
            return new ProxySource(path, Encoding.UTF8.GetString(TrustedPath.ReadFile(path, MaxFileBytes)));
        }
        catch (UnsafeDirectoryException e)
        {
            throw new WbException("LoadBalancerConfigUnsafe", WbErrorCategory.SecurityError,
                $"Refusing to read '{path}'{where}: {e.Message}, and whoever can change it could make us read any file. Keep the proxy's configuration in directories only root can change.", path, e);
        }
        catch (UntrustedFileException e)
        {
            throw new WbException("LoadBalancerConfigUnsafe", WbErrorCategory.SecurityError,
                $"Refusing to read '{path}'{where}: it is not trusted ({e.Message}), and whoever can change it could make us read any file. Keep the proxy's configuration root-owned and writable by root alone.", path, e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw Unreadable(path, where, e); }
    }

    private static WbException Unreadable(string path, string where, Exception e) =>
        new("LoadBalancerConfigUnreadable", e is UnauthorizedAccessException ? WbErrorCategory.PermissionDenied : WbErrorCategory.ReadError,
            $"Cannot read '{path}'{where}: {e.Message}", path, e);

    /// <summary>
    /// The files an include names, sorted as the proxies sort them; <paramref name="pattern"/> may hold *, ? and
    /// [...] in any part and is relative to <paramref name="baseDirectory"/>. A pattern without wildcards must
    /// name an existing file unless <paramref name="optional"/>; a pattern with them may match nothing.
    /// </summary>
    public static IReadOnlyList<string> Expand(string pattern, string baseDirectory, SourceLocation at, bool optional)
    {
        var full = Path.GetFullPath(Path.IsPathRooted(pattern) ? pattern : Path.Combine(baseDirectory, pattern));
        if (!HasWildcard(full))
        {
            if (File.Exists(full) || !optional && !Directory.Exists(full)) return [full];
            return Directory.Exists(full) ? Expand(Path.Combine(full, "*"), "/", at, optional: true) : [];
        }
        var parts = full.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var current = new List<string> { "/" };
        for (var i = 0; i < parts.Length; i++)
        {
            var last = i == parts.Length - 1;
            var next = new List<string>();
            foreach (var dir in current)
            {
                if (!HasWildcard(parts[i]))
                {
                    next.Add(Path.Combine(dir, parts[i]));
                    continue;
                }
                if (!Directory.Exists(dir)) continue;
                var regex = GlobRegex(parts[i]);
                IEnumerable<string> entries;
                try { entries = last ? Directory.EnumerateFiles(dir) : Directory.EnumerateDirectories(dir); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new WbException("LoadBalancerConfigUnreadable", WbErrorCategory.ReadError, $"Cannot list '{dir}' for the include at {at}: {e.Message}", dir, e);
                }
                next.AddRange(entries.Where(e => regex.IsMatch(Path.GetFileName(e)) && !Path.GetFileName(e).StartsWith('.')));
            }
            current = next;
        }
        return current.Where(File.Exists).Order(StringComparer.Ordinal).ToList();
    }

    private static bool HasWildcard(string s) => s.IndexOfAny(['*', '?', '[']) >= 0;

    private static Regex GlobRegex(string glob)
    {
        var b = new StringBuilder("^");
        for (var i = 0; i < glob.Length; i++)
        {
            var ch = glob[i];
            if (ch == '*') b.Append("[^/]*");
            else if (ch == '?') b.Append("[^/]");
            else if (ch == '[' && glob.IndexOf(']', i + 1) is > 0 and var close)
            {
                var set = glob[(i + 1)..close];
                b.Append('[').Append(set.StartsWith('!') ? "^" + Regex.Escape(set[1..]) : Regex.Escape(set)).Append(']');
                i = close;
            }
            else b.Append(Regex.Escape(ch.ToString()));
        }
        return new Regex(b.Append('$').ToString(), RegexOptions.CultureInvariant);
    }
}

/// <summary>A configuration file that does not parse: file, line and what is wrong (never the line's text).</summary>
public static class ProxySyntax
{
    public static WbException Error(SourceLocation at, string what) =>
        new("LoadBalancerConfigSyntax", WbErrorCategory.ParserError, $"{at}: {what}", at.ToString());
}
