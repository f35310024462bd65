namespace WorkbenchAdmin.Model;

public enum LoadBalancingState
{
    /// <summary>Not enabled: no <c>load-balancing-enabled=1</c> and no load-balancer file (or an explicit 0).</summary>
    Disabled,
    /// <summary><c>load-balancing-enabled=1</c> in rserver.conf: the current way.</summary>
    Enabled,
    /// <summary>Enabled only because a load-balancer file exists: the legacy way, with a compatibility warning.</summary>
    LegacyFileOnly,
}

/// <summary>The effective balancing setup of one configuration root, as Get-WbBalancer shows it.</summary>
public sealed record BalancerSetting
{
    public required string ConfigRoot { get; init; }
    public required string Method { get; init; }
    /// <summary>True when <c>balancer</c> is unset and the default (sessions) applies.</summary>
    public bool MethodIsDefault { get; init; }
    public LoadBalancingState LoadBalancing { get; init; }
    public bool Enabled => LoadBalancing != LoadBalancingState.Disabled;
    public bool LoadBalancerFilePresent { get; init; }
    /// <summary>The load-balancer file is in the pre-2021.09 form ([config] with balancer=, a [nodes] list); Set-WbBalancer migrates it.</summary>
    public bool LegacyForm { get; init; }
    /// <summary><c>www-host-name</c> as configured; null when unset.</summary>
    public string? WwwHostName { get; init; }
    /// <summary>The address other nodes use: www-host-name, else this host's name plus www-port.</summary>
    public required string EffectiveWwwHostName { get; init; }
    public bool DeleteNodeOnExit { get; init; }
    public required string ScriptPath { get; init; }
    public bool ScriptExists { get; init; }
    public bool ScriptExecutable { get; init; }
    public bool UseIPAddress { get; init; }
    public IReadOnlyList<string> Warnings { get; init; } = [];
}
