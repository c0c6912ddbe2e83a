package io.switchboard.testkit;

import java.io.File;
import java.util.List;
import java.util.logging.Level;

import org.openqa.selenium.Dimension;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

/**
 * A real headless Chromium for browser tests, driven by Debian's chromedriver: {@code CHROMIUM_BINARY} and
 * {@code CHROMEDRIVER} override where they are. The driver is given explicitly, so Selenium Manager never runs
 * (nothing may be downloaded here). A test that cannot start it fails with how to install it. The module using it
 * declares {@code selenium-chrome-driver} itself.
 */
public final class Chromium {
    private static final String BINARY = System.getenv().getOrDefault("CHROMIUM_BINARY", "/usr/bin/chromium");
    private static final String DRIVER = System.getenv().getOrDefault("CHROMEDRIVER", "/usr/bin/chromedriver");

    private Chromium() {
    }

    /**
     * Starts a headless Chromium with a 1400 x 1000 window.
     *
     * @param arguments more Chromium arguments (such as a pinned certificate key)
     * @return the driver; quit it when done
     */
    public static WebDriver start(String... arguments) {
        ChromeOptions options = new ChromeOptions();
        options.setBinary(BINARY);
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000");
        options.addArguments(List.of(arguments));
        // the page's console, for tests that check nothing was refused (a Content-Security-Policy, a script error)
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability(ChromeOptions.LOGGING_PREFS, logs);
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(DRIVER)).usingAnyFreePort().build();
        try {
            ChromeDriver driver = new ChromeDriver(service, options);
            driver.manage().window().setSize(new Dimension(1400, 1000));
            return driver;
        } catch (RuntimeException e) {
            throw new AssertionError("Chromium could not start (" + BINARY + " driven by " + DRIVER + "): "
                                     + e.getMessage().lines().findFirst().orElse("") + ". Install it with "
                                     + "apt-get install -y chromium chromium-driver (scripts/test.sh does as root), "
                                     + "or set CHROMIUM_BINARY and CHROMEDRIVER.", e);
        }
    }
}
