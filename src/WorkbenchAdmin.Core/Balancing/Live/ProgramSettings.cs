using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Platform;

namespace WorkbenchAdmin.Core.Balancing.Live;

/// <summary>
/// Where an installed balancer program finds its policy. Workbench runs the program with no arguments, so
/// Install-WbBalancer writes one line beside it, <c>&lt;program&gt;.conf</c> with <c>config-root=</c>, naming the
/// configuration root whose <c>workbenchadmin.conf</c> holds the policy; without that file the root is
/// <c>/etc/rstudio</c>. Both files are read only when no one but root (or the program's user) can change them.
/// </summary>
public static class ProgramSettings
{
    public const string ConfigRootKey = "config-root";

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
        return ModuleSettings.From(doc, root, RServerConfig.Load(root));
    }

    private static ConfigDocument ReadTrusted(string path)
    {
        if (TrustedPath.WhyUntrusted(path) is { } why)
            throw new WbException("BalancerPolicyUnsafe", WbErrorCategory.SecurityError,
                $"{path} is not read: {why}; whoever can change it could steer every session. Keep it root-owned and not writable by others.", path);
        return ConfigDocument.Parse(File.ReadAllBytes(path), path, ConfigDialect.Standard);
    }
}
