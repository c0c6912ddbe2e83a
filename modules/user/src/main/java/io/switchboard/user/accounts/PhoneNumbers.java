package io.switchboard.user.accounts;

import java.util.regex.Pattern;

import io.grpc.Status;

/**
 * Phone numbers, E.164-like: an optional {@code +} (or {@code 00}), then 8 to 15 digits, the first not 0.
 * Spaces, dashes, dots and parentheses are ignored; the normal form is {@code +<digits>}.
 */
public final class PhoneNumbers {
    private static final Pattern SEPARATORS = Pattern.compile("[ ().-]");
    private static final Pattern DIGITS = Pattern.compile("[1-9][0-9]{7,14}");

    private PhoneNumbers() {
    }

    /**
     * The normal form of a phone number.
     *
     * @param input what the user typed
     * @return {@code +<digits>}
     * @throws io.grpc.StatusRuntimeException INVALID_ARGUMENT when it is not a phone number
     */
    public static String normalize(String input) {
        if (input.length() > 32) {
            throw invalid();
        }
        String compact = SEPARATORS.matcher(input).replaceAll("");
        if (compact.startsWith("+")) {
            compact = compact.substring(1);
        } else if (compact.startsWith("00")) {
            compact = compact.substring(2);
        }
        if (!DIGITS.matcher(compact).matches()) {
            throw invalid();
        }
        return "+" + compact;
    }

    private static RuntimeException invalid() {
        return Status.INVALID_ARGUMENT
                .withDescription("phoneNumber must be a phone number of 8 to 15 digits, optionally with a leading +")
                .asRuntimeException();
    }
}
