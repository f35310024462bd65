using Microsoft.Extensions.Logging;
using WorkbenchAdmin.Core.Platform;

namespace WorkbenchAdmin.Core.Configuration;

/// <summary>One key to set (or remove, when <see cref="Value"/> is null) in one section of a file.</summary>
public sealed record ConfigChange(string? Section, string Key, string? Value);

/// <summary>What an edit did to one file.</summary>
public sealed record ConfigFileEdit(string Path, IReadOnlyList<ConfigChangeResult> Changes, ConfigEditOutcome Outcome);

public sealed record ConfigChangeResult(string? Section, string Key, string? OldValue, string? NewValue);

public enum ConfigEditOutcome
{
    /// <summary>Every key already had its value; nothing was written.</summary>
    Unchanged,
    /// <summary>ShouldProcess declined (e.g. -WhatIf); nothing was written.</summary>
    Declined,
    Written,
}

/// <summary>
/// Read-modify-write of configuration files: under a lock on the directory, parse the file, change only
/// the keys asked for, ask ShouldProcess, then lock, re-apply and replace the file atomically. Comments, order, spacing and
/// line endings of every other line stay byte for byte.
/// </summary>
public sealed class ConfigEditor
{
    private readonly ConfigRoot _root;
    private readonly ILogger _logger;
    private readonly Action<string>? _beforeCommit;
    private readonly CancellationToken _cancel;

    /// <summary>How long an edit waits for another editor's lock on the directory.</summary>
    public static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(10);

    /// <param name="beforeCommit">Called with the temporary file just before the rename: a seam for failure tests.</param>
    /// <param name="cancel">Ends a wait for the directory's lock (the command's Ctrl+C).</param>
    public ConfigEditor(ConfigRoot root, ILogger? logger = null, Action<string>? beforeCommit = null, CancellationToken cancel = default)
    {
        _root = root;
        _logger = logger ?? Logging.CommandLog.For<ConfigEditor>();
        _beforeCommit = beforeCommit;
        _cancel = cancel;
    }

    /// <summary>
    /// Applies <paramref name="changes"/> to <paramref name="fileName"/>. <paramref name="sectionOf"/> may
    /// choose each key's section from the current document (null keeps the change's own section).
    /// </summary>
    /// <param name="reshape">Applied before <paramref name="changes"/> (a migration of the file's form); returns what it did.</param>
    /// <param name="writableByUsAlone">
    /// A file root trusts (the balancer program's policy, which it refuses to read otherwise): it must end owned by us
    /// and writable by no one else. One that is not is rewritten so (its mode kept, less group and other write), even
    /// when no value changes.
    /// </param>
    public ConfigFileEdit Edit(string fileName, IReadOnlyList<ConfigChange> changes, Func<string, string, bool> shouldProcess,
                               Func<ConfigDocument, string, string?>? sectionOf = null, Func<ConfigDocument, List<ConfigChangeResult>>? reshape = null,
                               bool writableByUsAlone = false)
    {
        var path = _root.PathOf(fileName);
        // A mistyped -ConfigRoot must not become a new, empty configuration directory.
        if (!Directory.Exists(_root.Path))
            throw new WbException("ConfigRootNotFound", WbErrorCategory.ObjectNotFound,
                $"The configuration root '{_root.Path}' does not exist; nothing was written.", _root.Path);
        // Which file is the database config (read by its own rules, values masked in what an edit reports).
        var roles = ConfigFileRoles.Of(_root);
        var dialect = roles.DialectOf(fileName);
        // Plan without the lock: -WhatIf and a declined -Confirm touch nothing (not even the lock file), and
        // no lock is held while a -Confirm prompt waits for the user.
        var planned = Apply(_root.LoadOrEmpty(fileName, dialect), changes, sectionOf, roles, reshape);
        var others = writableByUsAlone ? WhyOthersCanChange(path) : null;
        if (planned.Count == 0 && others is null)
        {
            _logger.LogDebug("{Path}: already as asked, not written", path);
            return new ConfigFileEdit(path, planned, ConfigEditOutcome.Unchanged);
        }
        var action = string.Join("; ", new[] { planned.Count > 0 ? "Set " + string.Join(", ", planned.Select(Describe)) : null,
                                               others is null ? null : $"Make it writable by {UnixFile.TrustedOwners} alone ({others})" }.OfType<string>());
        if (!shouldProcess(path, action)) return new ConfigFileEdit(path, planned, ConfigEditOutcome.Declined);

        // Then apply the same changes to the file as it is under the lock: another editor may have written since.
        using var _ = DirectoryLock.Acquire(_root.Path, LockTimeout, _cancel);
        var doc = _root.LoadOrEmpty(fileName, dialect);
        var results = Apply(doc, changes, sectionOf, roles, reshape);
        others = writableByUsAlone ? WhyOthersCanChange(path) : null;
        if (results.Count == 0 && others is null) return new ConfigFileEdit(path, results, ConfigEditOutcome.Unchanged);
        if (others is not null)
        {
            var mode = (UnixFile.TryStat(AtomicFile.ResolveTarget(path))?.Mode ?? roles.NewFileModeOf(fileName)) & ~(UnixFileMode.GroupWrite | UnixFileMode.OtherWrite);
            AtomicFile.Write(path, doc.ToBytes(), mode, _beforeCommit, keepOwnerAndMode: false);
            _logger.LogInformation("{Path}: made writable by {Owners} alone ({Why})", path, UnixFile.TrustedOwners, others);
        }
        else AtomicFile.Write(path, doc.ToBytes(), roles.NewFileModeOf(fileName), _beforeCommit);
        _logger.LogInformation("{Path}: Set {Action}", path, string.Join(", ", results.Select(Describe)));
        return new ConfigFileEdit(path, results, ConfigEditOutcome.Written);
    }

    /// <summary>Why someone other than root (or us) could change the existing file <paramref name="path"/> (where its links lead), or null.</summary>
    private static string? WhyOthersCanChange(string path) =>
        File.Exists(path) ? TrustedPath.WhyOthersCanChangeFile(AtomicFile.ResolveTarget(path)) : null;

    /// <summary>Applies the changes to <paramref name="doc"/>; what changed, with secrets masked (results are logged and returned).</summary>
    private static List<ConfigChangeResult> Apply(ConfigDocument doc, IReadOnlyList<ConfigChange> changes, Func<ConfigDocument, string, string?>? sectionOf, ConfigFileRoles roles,
                                                  Func<ConfigDocument, List<ConfigChangeResult>>? reshape)
    {
        var results = reshape?.Invoke(doc).Select(r => r with { OldValue = roles.Mask(doc.FilePath, r.Key, r.OldValue), NewValue = roles.Mask(doc.FilePath, r.Key, r.NewValue) }).ToList() ?? [];
        foreach (var change in changes)
        {
            var section = sectionOf is null ? change.Section : sectionOf(doc, change.Key);
            var old = doc.Find(section, change.Key)?.Value;
            var changed = change.Value is null ? doc.Remove(section, change.Key) : doc.Set(section, change.Key, change.Value);
            if (changed)
                results.Add(new ConfigChangeResult(section, change.Key, roles.Mask(doc.FilePath, change.Key, old), roles.Mask(doc.FilePath, change.Key, change.Value)));
        }
        return results;
    }

    private static string Describe(ConfigChangeResult r)
    {
        var key = r.Section is null ? r.Key : $"[{r.Section}] {r.Key}";
        return r.NewValue is null ? $"{key} (removed)" : $"{key} = {r.NewValue}";
    }
}
