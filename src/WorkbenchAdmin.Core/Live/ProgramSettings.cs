using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Platform;

using WorkbenchAdmin.Core.Balancing;

namespace WorkbenchAdmin.Core.Live;

/// <summary>
/// Where an installed balancer program finds its policy. Workbench runs the program with no arguments, so
/// Install-WbBalancer writes one line beside it, <c>&lt;program&gt;.conf</c> with <c>config-root=</c>, naming the
/// configuration root whose <c>workbenchadmin.conf</c> holds the policy; without that file the root is
/// <c>/etc/rstudio</c>. Both files are read only when no one but root (or the program's user) can change them.
/// </summary>
public static class ProgramSettings
{
    public const string ConfigRootKey = "config-root";
    /// <summary>Far more than any pointer or policy file: a bound on what root reads.</summary>
    public const int MaxFileBytes = 1024 * 1024;

    public static string PointerPathOf(string programPath) => programPath + ".conf";

    /// <summary>The configuration root named beside the program, or /etc/rstudio when nothing is.</summary>
    public static ConfigRoot ConfigRootOf(string programPath)
    {
        var pointer = PointerPathOf(programPath);
        if (!File.Exists(pointer)) return new ConfigRoot(ConfigRoot.DefaultPath);
        var doc = ReadTrusted(pointer);
        var line = doc.Find(null, ConfigRootKey);
        if (line is null || string.IsNullOrEmpty(line.Value) || !Path.IsPathRooted(line.Value))
            throw line is null
                ? new WbException("BalancerPolicyInvalid", WbErrorCategory.InvalidData, $"{pointer}: no {ConfigRootKey}= line.", pointer)
                : ConfigFormatException.AtValue(pointer, line, "must be an absolute directory path");
        return new ConfigRoot(line.Value);
    }

    /// <summary>The module's settings of <paramref name="root"/>, refusing a file others could have planted.</summary>
    public static ModuleSettings Load(ConfigRoot root)
    {
        var path = root.PathOf(ModuleSettings.FileName);
        var doc = File.Exists(path) ? ReadTrusted(path) : null;
        return BalancingPolicies.Checked(ModuleSettings.From(doc, root, RServerConfig.Load(root)));
    }

    /// <summary>
    /// The policy the program decides with. A file that is not safe to read, or that holds an invalid value, is refused
    /// (<see cref="BalancerPolicy.Refused"/> says why): the program then decides with consistent-hash, and still honours
    /// the drain (the store's, else its record) and the file's max-sessions-per-node, read from a file that is safe
    /// and whose cap line is valid. Where the cap cannot be known (a file others could have written, or one that
    /// does not parse, or whose cap line is invalid), it refuses every session (<see cref="BalancerPolicy.RefusesSessions"/>)
    /// rather than risk overloading a node, and nothing a file others could have written says is ever used.
    /// </summary>
    public static BalancerPolicy LoadPolicy(ConfigRoot root)
    {
        var errors = new Dictionary<string, ConfigFormatException>(StringComparer.Ordinal);
        RServerConfig rserver;
        try { rserver = RServerConfig.Load(root); }
        catch (ConfigFormatException e)
        {
            // Its status page address is then unknown: the default one is tried, and the owner check still applies.
            errors["rserver.conf"] = e;
            rserver = RServerConfig.From(null);
        }

        var path = root.PathOf(ModuleSettings.FileName);
        ConfigDocument? doc = null;
        string? unreadable = null;
        try { doc = File.Exists(path) ? ReadTrusted(path) : null; }
        catch (Exception e) when (e is WbException or IOException or UnauthorizedAccessException) { unreadable = e.Message; }

        if (unreadable is not null)
            return BalancingPolicies.Checked(ModuleSettings.From(null, root, rserver)).Balancer with
            {
                FilePresent = true,
                Method = BalancingPolicies.FallbackMethod,
                RefusesSessions = true,
                Refused = $"{unreadable} The balancer program refuses every session: without the policy it cannot know max-sessions-per-node, " +
                          "and it never risks overloading a node.",
            };

        var settings = BalancingPolicies.Checked(ModuleSettings.From(doc, root, rserver, errors), errors);
        // Only the program's own settings count: the custom script keys are the cmdlets'. A loop, not LINQ: in the NativeAOT
        // program a Where().Select() chain is resolved at run time (a generic virtual method), some 0.5 ms of every decision.
        var problems = new List<ConfigFormatException>();
        foreach (var (key, error) in errors)
            if (key is not ModuleSettings.CustomScriptKey and not ModuleSettings.UseIpAddressKey) problems.Add(error);
        if (problems.Count == 0) return settings.Balancer;
        var capUnknown = errors.ContainsKey(ModuleSettings.MaxSessionsKey);
        var why = string.Join("; ", problems.Select(p => p.Message));
        var cap = settings.Balancer.MaxSessionsPerNode is { } max ? $"max-sessions-per-node={max}" : "no max-sessions-per-node (none is set)";
        return settings.Balancer with
        {
            Method = BalancingPolicies.FallbackMethod,
            RefusesSessions = capUnknown,
            Refused = capUnknown
                ? $"{why}. The balancer program refuses every session: it cannot know max-sessions-per-node, and it never risks overloading a node."
                : $"{why}. The balancer program does not use this policy: it falls back to {BalancingPolicies.FallbackMethod}, honouring drained nodes and {cap}.",
        };
    }

    private static ConfigDocument ReadTrusted(string path)
    {
        byte[] content;
        try { content = TrustedPath.ReadFile(path, MaxFileBytes); }
        catch (Exception e) when (e is UnsafeDirectoryException or UntrustedFileException)
        {
            throw new WbException("BalancerPolicyUnsafe", WbErrorCategory.SecurityError,
                $"{path} is not read: {e.Message}; whoever can change it could steer every session. Keep it root-owned and not writable by others " +
                "(Set-WbBalancerPolicy rewrites it so).", path);
        }
        return ConfigDocument.Parse(content, path, ConfigDialect.Standard);
    }
}
