#Requires -Modules Pester
<#
    The cluster verification suite: one It per Test-WbCluster check, grouped and tagged by area
    (config, storage, database, security, network, services, cluster, spec, loadbalancer; and 'Cluster' on all of them).
    Run it on a node, against the real cluster:

        $container = New-PesterContainer -Path ./WorkbenchAdmin.Cluster.Tests.ps1 -Data @{ Spec = '/etc/rstudio/cluster.yaml' }
        Invoke-Pester -Container $container -Output Detailed

    A Fail fails the It (with what was found and how to fix it), and so does a check that could not be made
    (the store unreachable: Test-WbCluster reports it as a Fail that says why); a Warn passes with the warning
    in the output; a Skip (the check does not apply) is reported as skipped with its reason.
#>
param(
    [string] $ConfigRoot,
    [string] $ConnectionString,
    [string] $Spec,
    [string] $HomeRoot,
    # The external load balancer's configuration file or URL (Test-WbCluster -LoadBalancer); without it its checks are skipped.
    [string] $LoadBalancer
)

# Pester passes -Data here at discovery (and again to BeforeAll as variables): a mistyped path or connection
# string fails once, here, with a clear message, rather than as a failure of every check.
if ($ConfigRoot -and -not (Test-Path -LiteralPath $ConfigRoot -PathType Container)) { throw "-ConfigRoot '$ConfigRoot' is not a directory." }
if ($HomeRoot -and -not (Test-Path -LiteralPath $HomeRoot -PathType Container)) { throw "-HomeRoot '$HomeRoot' is not a directory." }
if ($Spec -and -not (Test-Path -LiteralPath $Spec -PathType Leaf)) { throw "-Spec '$Spec' is not a file." }
if ($LoadBalancer -and $LoadBalancer -notmatch '^https?://' -and -not (Test-Path -LiteralPath $LoadBalancer -PathType Leaf)) { throw "-LoadBalancer '$LoadBalancer' is neither a file nor an http(s) URL." }
if ($ConnectionString) { $null = [System.Data.Common.DbConnectionStringBuilder]@{ ConnectionString = $ConnectionString } }

BeforeDiscovery {
    $modulePath = if ($env:WORKBENCHADMIN_MODULE) { $env:WORKBENCHADMIN_MODULE } else { 'WorkbenchAdmin' }
    Import-Module $modulePath -ErrorAction Stop
    # Script scope: the Describe blocks below read it during discovery.
    $script:checks = foreach ($c in [WorkbenchAdmin.Model.CheckCatalog]::All) {
        @{ Id = $c.Id; Title = $c.Title; Area = $c.Area }
    }
}

BeforeAll {
    $modulePath = if ($env:WORKBENCHADMIN_MODULE) { $env:WORKBENCHADMIN_MODULE } else { 'WorkbenchAdmin' }
    Import-Module $modulePath -ErrorAction Stop
    # The suite's parameters, passed on when given (New-PesterContainer -Data).
    $arguments = @{}
    if ($ConfigRoot) { $arguments.ConfigRoot = $ConfigRoot }
    if ($ConnectionString) { $arguments.ConnectionString = $ConnectionString }
    if ($Spec) { $arguments.Spec = $Spec }
    if ($HomeRoot) { $arguments.HomeRoot = $HomeRoot }
    if ($LoadBalancer) { $arguments.LoadBalancer = $LoadBalancer }
    $script:results = @(Test-WbCluster @arguments -ProgressAction SilentlyContinue)

    function Assert-Check([string] $Id) {
        $mine = @($script:results | Where-Object CheckId -eq $Id)
        if ($mine.Count -eq 0) { Set-ItResult -Skipped -Because 'the check did not run (a spec check without -Spec, a load balancer check without -LoadBalancer)'; return }
        $failed = @($mine | Where-Object Status -eq 'Fail')
        foreach ($w in $mine | Where-Object Status -eq 'Warn') { Write-Warning "$($w.Target): $($w.Found) - $($w.Fix)" }
        if ($failed.Count -eq 0 -and @($mine | Where-Object Status -ne 'Skip').Count -eq 0) {
            Set-ItResult -Skipped -Because $mine[0].Found
            return
        }
        $failed | ForEach-Object { "$($_.Target): $($_.Found). Fix: $($_.Fix)" } | Should -BeNullOrEmpty
    }
}

Describe 'Configuration' -Tag 'Cluster', 'config' {
    It '<Id>: <Title>' -ForEach ($checks | Where-Object Area -eq 'config') { Assert-Check $Id }
}

Describe 'Shared storage' -Tag 'Cluster', 'storage' {
    It '<Id>: <Title>' -ForEach ($checks | Where-Object Area -eq 'storage') { Assert-Check $Id }
}

Describe 'Database' -Tag 'Cluster', 'database' {
    It '<Id>: <Title>' -ForEach ($checks | Where-Object Area -eq 'database') { Assert-Check $Id }
}

Describe 'Security' -Tag 'Cluster', 'security' {
    It '<Id>: <Title>' -ForEach ($checks | Where-Object Area -eq 'security') { Assert-Check $Id }
}

Describe 'Network' -Tag 'Cluster', 'network' {
    It '<Id>: <Title>' -ForEach ($checks | Where-Object Area -eq 'network') { Assert-Check $Id }
}

Describe 'Services' -Tag 'Cluster', 'services' {
    It '<Id>: <Title>' -ForEach ($checks | Where-Object Area -eq 'services') { Assert-Check $Id }
}

Describe 'Across the nodes' -Tag 'Cluster', 'cluster' {
    It '<Id>: <Title>' -ForEach ($checks | Where-Object Area -eq 'cluster') { Assert-Check $Id }
}

Describe 'Desired state (spec)' -Tag 'Cluster', 'spec' {
    It '<Id>: <Title>' -ForEach ($checks | Where-Object Area -eq 'spec') { Assert-Check $Id }
}

Describe 'External load balancer' -Tag 'Cluster', 'loadbalancer' {
    It '<Id>: <Title>' -ForEach ($checks | Where-Object Area -eq 'loadbalancer') { Assert-Check $Id }
}
